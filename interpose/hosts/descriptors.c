/* descriptors MODE — what the program's descriptors look like to it, for
 * the tests of the report's channel (docs/fork-and-signals.md):
 *   daemon        forks; the parent returns at once; the child detaches
 *                 (setsid, /dev/null on fds 0-2), allocates, sleeps 3 s
 *   reopen FILE   (started with fd 2 closed) opens FILE, which becomes
 *                 fd 2, writes "data\n" to it, allocates, exits
 *   highlog FILE  opens FILE as fd 1000 (dup2), writes "log\n", exits
 *                 through exit() after its atexit handler closed fd 2
 *   slow          allocates, sleeps 0.3 s, prints "slow\n", exits 0
 *   firstfd       allocates, then prints the descriptor open() returns
 *                 and every descriptor it has open (from /proc/self/fd) */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;

static void allocate(void) {
    for (int i = 0; i < 100; i++) {
        sink = malloc(100 + i);
        free(sink);
    }
    sink = malloc(4000); /* live at exit */
}

static void close_stderr(void) { close(2); }

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "daemon") == 0) {
        if (fork() > 0) return 0;
        setsid();
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0), dup2(null, 1), dup2(null, 2);
        if (null > 2) close(null);
        allocate();
        sleep(3);
        return 0;
    }
    if (strcmp(mode, "reopen") == 0 && argc > 2) {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd != 2) return 2;
        (void)!write(fd, "data\n", 5);
        allocate();
        return 0;
    }
    if (strcmp(mode, "highlog") == 0 && argc > 2) {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1000) != 1000) return 2;
        close(fd);
        (void)!write(1000, "log\n", 4);
        atexit(close_stderr);
        allocate();
        exit(0);
    }
    if (strcmp(mode, "slow") == 0) {
        allocate();
        usleep(300000);
        printf("slow\n");
        return 0;
    }
    if (strcmp(mode, "firstfd") == 0) {
        allocate();
        printf("%d\n", open("/dev/null", O_RDONLY));
        /* Listed without stdio or malloc of its own (readdir's buffer is
           opendir's single allocation, made before the listing). */
        DIR *directory = opendir("/proc/self/fd");
        if (directory == NULL) return 2;
        for (struct dirent *entry; (entry = readdir(directory)) != NULL;) {
            if (entry->d_name[0] == '.' || atoi(entry->d_name) == dirfd(directory)) continue;
            printf("open %s\n", entry->d_name);
        }
        closedir(directory);
        return 0;
    }
    return 64;
}
