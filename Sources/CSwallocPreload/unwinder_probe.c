/*
 * libunwind without a descriptor of its own.
 *
 * On its first backtrace libunwind opens a pipe, and from then on tests
 * whether an address is readable by writing one byte from it into the pipe
 * (the kernel answers EFAULT when it cannot read there), then reading the
 * byte back out. The two descriptors stayed open for the life of the
 * process: the program saw them in /proc/self/fd, could open two files
 * fewer, and under a low RLIMIT_NOFILE its own descriptors came out
 * shifted.
 *
 * The library loads libunwind itself (Backtrace.swift), so it points the
 * calls of that test in libunwind's relocation tables (pipe2, read, write,
 * close, and syscall, through which libunwind also writes) at the
 * functions below:
 * - pipe2 hands out two numbers that are never descriptors (negative);
 * - read of the first answers "empty", as the pipe's read end would;
 * - a write of `address` to the second asks the kernel to read there
 *   through rt_sigprocmask with an invalid `how`: the kernel copies the
 *   signal set in first (EFAULT when it cannot read it) and only then
 *   refuses the `how` (EINVAL), so nothing changes and nothing is held;
 * - close of either does nothing.
 * Every other call goes on to the function libunwind would have called.
 * Only libunwind's own tables change: anyone else's pipe2, read, close and
 * syscall are glibc's, untouched.
 */
#include "swalloc_preload.h"

#include <stdarg.h>

/* Never descriptors; not -1, which libunwind takes for "no pipe". */
enum { probe_read_end = -1000, probe_write_end = -1001 };

/* Whether the kernel can read the 8 aligned bytes that hold `address`
   (they lie in one page, as the byte does). */
static bool kernel_can_read(uintptr_t address) {
    const void *set = (const void *)(address & ~(uintptr_t)7);
    long result = syscall(SYS_rt_sigprocmask, -1, set, NULL, sizeof(uint64_t));
    if (result == -1 && errno == EINVAL) return true;
    if (result == -1 && errno == EFAULT) return false;
    /* Neither answer (a filter refused the call): read it another way. */
    uint64_t copy;
    return swalloc_safe_read(&copy, set, sizeof copy);
}

/* A write of one byte at `address` to the pipe's write end, as the pipe
   would answer it: 1, or -1 with EFAULT. */
static ssize_t probe_written(uintptr_t address) {
    if (kernel_can_read(address)) {
        errno = 0; /* libunwind loops while errno is EINTR, even on success */
        return 1;
    }
    errno = EFAULT;
    return -1;
}

static int probe_pipe2(int fds[2], int flags) {
    (void)flags;
    fds[0] = probe_read_end;
    fds[1] = probe_write_end;
    return 0;
}

static ssize_t probe_read(int fd, void *buffer, size_t bytes) {
    if (fd == probe_read_end) {
        errno = EAGAIN;
        return -1;
    }
    return read(fd, buffer, bytes);
}

static ssize_t probe_write(int fd, const void *buffer, size_t bytes) {
    if (fd == probe_write_end) return probe_written((uintptr_t)buffer);
    return write(fd, buffer, bytes);
}

static int probe_close(int fd) {
    if (fd == probe_read_end || fd == probe_write_end) return 0;
    return close(fd);
}

/* glibc's syscall(2) takes at most six arguments; reading six from the
   list is what glibc's own syscall does. */
static long probe_syscall(long number, ...) {
    va_list list;
    va_start(list, number);
    long argument[6];
    for (int i = 0; i < 6; i++) argument[i] = va_arg(list, long);
    va_end(list);
    /* The descriptor was passed as an int: only its low 32 bits are set. */
    if (number == SYS_write && (int)argument[0] == probe_write_end) {
        return probe_written((uintptr_t)argument[1]);
    }
    return syscall(number, argument[0], argument[1], argument[2], argument[3], argument[4], argument[5]);
}

/* A call of the test and the slots that lead to it: a name may have a
   PLT slot and a GOT slot both (code built with -fno-plt, an address
   taken), and every one of them must lead to the replacement. */
enum { slots_per_call = 4 };
struct probe_call {
    const char *name;
    void *replacement;
    bool required; /* false: write and syscall, of which libunwind calls one or both */
    int found;
    void **slot[slots_per_call];
};

struct relro_search {
    ElfW(Addr) base;
    uintptr_t page;
    uintptr_t start, end;
};

static int find_relro(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct relro_search *search = data;
    if (info->dlpi_addr != search->base) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type != PT_GNU_RELRO) continue;
        /* The pages the loader made read-only: both ends rounded down, as
           glibc's _dl_protect_relro rounds them (a last partial page stays
           writable). */
        uintptr_t start = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
        search->start = start & ~(search->page - 1);
        search->end = (start + info->dlpi_phdr[i].p_memsz) & ~(search->page - 1);
    }
    return 1;
}

/* The relocations of `table` (`bytes` long) that name one of `calls`. */
static void find_slots(struct link_map *map, const ElfW(Rela) *table, size_t bytes, const ElfW(Sym) *symbols,
                       const char *names, struct probe_call *calls, int count) {
    if (table == NULL || symbols == NULL || names == NULL) return;
    for (size_t i = 0; i < bytes / sizeof(ElfW(Rela)); i++) {
        unsigned long type = ELF64_R_TYPE(table[i].r_info);
        if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
        const char *name = names + symbols[ELF64_R_SYM(table[i].r_info)].st_name;
        for (int k = 0; k < count; k++) {
            if (strcmp(name, calls[k].name) != 0) continue;
            /* More than the room for them: counted, so that the install gives up. */
            if (calls[k].found < slots_per_call) calls[k].slot[calls[k].found] = (void **)(map->l_addr + table[i].r_offset);
            calls[k].found++;
        }
    }
}

/* Whether the test tells a readable page from an inaccessible one here:
   where rt_sigprocmask refuses the `how` before reading the set (qemu-user
   does), every address would pass, and libunwind would read a guard page
   inside malloc. Then libunwind keeps its pipe. */
static bool probe_answers_right(void) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *pages = swalloc_map_anonymous(2 * page);
    if (pages == NULL) return false;
    /* Unsafe: the second page of the mapping just made, ours alone. */
    bool right = swalloc_protect_none((char *)pages + page, page) == 0 && kernel_can_read((uintptr_t)pages) &&
                 !kernel_can_read((uintptr_t)pages + page);
    swalloc_unmap(pages, 2 * page);
    return right;
}

bool swalloc_unwinder_probe_install(void *handle) {
    struct link_map *map = NULL;
    if (handle == NULL || dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == NULL || map->l_ld == NULL) return false;
    const ElfW(Rela) *plt = NULL, *relocations = NULL;
    size_t plt_bytes = 0, relocation_bytes = 0;
    const ElfW(Sym) *symbols = NULL;
    const char *names = NULL;
    for (const ElfW(Dyn) *entry = map->l_ld; entry->d_tag != DT_NULL; entry++) {
        /* glibc has relocated the addresses in place on x86_64; an
           unrelocated one is below the load address. */
        ElfW(Addr) address = entry->d_un.d_ptr < map->l_addr ? entry->d_un.d_ptr + map->l_addr : entry->d_un.d_ptr;
        switch (entry->d_tag) {
        case DT_PLTREL:
            if (entry->d_un.d_val != DT_RELA) return false;
            break;
        case DT_JMPREL: plt = (const ElfW(Rela) *)address; break;
        case DT_PLTRELSZ: plt_bytes = entry->d_un.d_val; break;
        case DT_RELA: relocations = (const ElfW(Rela) *)address; break;
        case DT_RELASZ: relocation_bytes = entry->d_un.d_val; break;
        case DT_SYMTAB: symbols = (const ElfW(Sym) *)address; break;
        case DT_STRTAB: names = (const char *)address; break;
        default: break;
        }
    }
    struct probe_call calls[] = {
        {"pipe2", (void *)probe_pipe2, true, 0, {NULL}},
        {"read", (void *)probe_read, true, 0, {NULL}},
        {"close", (void *)probe_close, true, 0, {NULL}},
        {"write", (void *)probe_write, false, 0, {NULL}},
        {"syscall", (void *)probe_syscall, false, 0, {NULL}},
    };
    const int count = (int)(sizeof calls / sizeof calls[0]);
    find_slots(map, plt, plt_bytes, symbols, names, calls, count);
    find_slots(map, relocations, relocation_bytes, symbols, names, calls, count);
    /* All or none: a fake descriptor reaching the real read or write would
       make every address test fail. So every slot of every call, and a way
       to write (write or syscall). */
    bool can_write = false;
    for (int k = 0; k < count; k++) {
        if ((calls[k].found == 0 && calls[k].required) || calls[k].found > slots_per_call) return false;
        if (!calls[k].required && calls[k].found > 0) can_write = true;
    }
    if (!can_write) return false;
    if (!probe_answers_right()) return false;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    struct relro_search relro = {map->l_addr, page, 0, 0};
    dl_iterate_phdr(find_relro, &relro);
    /* A slot in the part made read-only after relocation (a library bound
       at load) is opened for the store and closed again; the pages are
       opened before any store, so that a refusal leaves them all alone. */
    bool opened = true;
    for (int k = 0; k < count && opened; k++) {
        for (int n = 0; n < calls[k].found && opened; n++) {
            uintptr_t slot = (uintptr_t)calls[k].slot[n];
            if (slot >= relro.start && slot < relro.end)
                opened = mprotect((void *)(slot & ~(page - 1)), page, PROT_READ | PROT_WRITE) == 0;
        }
    }
    /* Unsafe: every slot is writable (outside RELRO, or opened above). */
    for (int k = 0; k < count && opened; k++) {
        for (int n = 0; n < calls[k].found; n++) __atomic_store_n(calls[k].slot[n], calls[k].replacement, __ATOMIC_RELEASE);
    }
    /* Closed again, also after a refusal (closing a page never opened is
       harmless: it was read-only). */
    for (int k = 0; k < count; k++) {
        for (int n = 0; n < calls[k].found && n < slots_per_call; n++) {
            uintptr_t slot = (uintptr_t)calls[k].slot[n];
            if (slot >= relro.start && slot < relro.end) mprotect((void *)(slot & ~(page - 1)), page, PROT_READ);
        }
    }
    return opened;
}
