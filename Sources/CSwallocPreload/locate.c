/* Code addresses to mapped files, from /proc/self/maps (swalloc_locate.h). */
#include "swalloc_preload.h"
#include <ucontext.h>

static const char *parse_hex(const char *text, const char *end, uintptr_t *value) {
    uintptr_t result = 0;
    while (text < end) {
        char c = *text;
        unsigned digit;
        if (c >= '0' && c <= '9') digit = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') digit = (unsigned)(c - 'a' + 10);
        else break;
        result = (result << 4) | digit;
        text++;
    }
    *value = result;
    return text;
}

static const char *skip_field(const char *text, const char *end) {
    while (text < end && *text != ' ') text++;
    while (text < end && *text == ' ') text++;
    return text;
}

struct module_start {
    uintptr_t start;        /* of the newest mapping at file offset 0 */
    size_t path_length;
    char saved[SWALLOC_LOCATION_PATH_BYTES];  /* its path, kept across reads */
};

/* One line "start-end perms offset dev inode   path" (without '\n'). */
static void visit_line(const char *line, const char *end, const uintptr_t *addresses, size_t count,
                       struct swalloc_location *locations, struct module_start *module) {
    uintptr_t start, stop, offset;
    const char *text = parse_hex(line, end, &start);
    if (text >= end || *text != '-') return;
    text = parse_hex(text + 1, end, &stop);
    text = skip_field(text, end);               /* to perms */
    text = skip_field(text, end);               /* to offset */
    text = parse_hex(text, end, &offset);
    text = skip_field(text, end);               /* to dev */
    text = skip_field(text, end);               /* to inode */
    text = skip_field(text, end);               /* to the path, if any */
    size_t path_length = (size_t)(end - text);
    if (path_length == 0 || *text != '/' || path_length >= SWALLOC_LOCATION_PATH_BYTES) return;
    if (offset == 0) {
        module->start = start;
        memcpy(module->saved, text, path_length);
        module->saved[path_length] = 0;
        module->path_length = path_length;
    }
    bool same_module = module->path_length == path_length && memcmp(module->saved, text, path_length) == 0;
    for (size_t index = 0; index < count; index++) {
        /* A return address points after its call: the call is one byte before. */
        uintptr_t address = addresses[index] - 1;
        if (address < start || address >= stop || locations[index].path[0] != 0) continue;
        locations[index].base = same_module ? module->start : start - offset;
        memcpy(locations[index].path, text, path_length);
        locations[index].path[path_length] = 0;
    }
}

bool swalloc_locate(const uintptr_t *addresses, size_t count, struct swalloc_location *locations,
                    char *buffer, size_t buffer_bytes) {
    for (size_t index = 0; index < count; index++) {
        locations[index].base = 0;
        locations[index].path[0] = 0;
    }
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct module_start module = {0, 0, {0}};
    size_t held = 0;          /* bytes of an unfinished line at the buffer's start */
    bool skipping = false;    /* inside a line longer than the buffer */
    for (;;) {
        ssize_t got = read(fd, buffer + held, buffer_bytes - held);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        size_t filled = held + (size_t)got;
        size_t line_start = 0;
        for (size_t position = 0; position < filled; position++) {
            if (buffer[position] != '\n') continue;
            if (!skipping) visit_line(buffer + line_start, buffer + position, addresses, count, locations, &module);
            skipping = false;
            line_start = position + 1;
        }
        held = filled - line_start;
        if (held == buffer_bytes) {
            /* No newline in a whole buffer: drop the line. */
            skipping = true;
            held = 0;
        } else if (held > 0) {
            memmove(buffer, buffer + line_start, held);
        }
    }
    close(fd);
    return true;
}

uintptr_t swalloc_fault_instruction(void *context) {
#if defined(__x86_64__)
    return context ? (uintptr_t)((ucontext_t *)context)->uc_mcontext.gregs[REG_RIP] : 0;
#elif defined(__aarch64__)
    return context ? (uintptr_t)((ucontext_t *)context)->uc_mcontext.pc : 0;
#else
    (void)context;
    return 0;
#endif
}
