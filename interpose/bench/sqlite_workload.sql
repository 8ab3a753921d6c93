-- sqlite_workload.sql: 200,000 rows inserted, indexed and queried in memory
-- (615k allocations, 98 % under 64 bytes), for scripts/bench.
create table t(a integer primary key, b text, c real);
with recursive n(i) as (select 1 union all select i+1 from n where i < 200000) insert into t select i, hex(randomblob(16)), i*0.5 from n;
create index tb on t(b);
select count(*), sum(length(b)) from t where b like 'A%';
select b from t order by b desc limit 1;
