/* The loaded modules and their build-ids (swalloc_modules.h). */
#include "swalloc_preload.h"

struct visit_state {
    swalloc_module_visitor visit;
    void *context;
};

/* The NT_GNU_BUILD_ID note of a module, from its PT_NOTE segments, which
   the loader mapped: read in place, bounded by each segment's size. */
static int visit_one(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct visit_state *state = data;
    /* "" is the executable: the caller knows its path. */
    const char *path = info->dlpi_name ? info->dlpi_name : "";
    const unsigned char *build_id = NULL;
    size_t length = 0;
    uintptr_t base = 0, end = 0;
    bool base_known = false;
    for (int index = 0; index < info->dlpi_phnum; index++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[index];
        if (header->p_type == PT_LOAD) {
            if (!base_known) base = info->dlpi_addr + (header->p_vaddr & ~(uintptr_t)4095);
            base_known = true;
            uintptr_t segment_end = info->dlpi_addr + header->p_vaddr + header->p_memsz;
            if (segment_end > end) end = segment_end;
        }
        if (header->p_type != PT_NOTE || build_id != NULL) continue;
        const unsigned char *note = (const unsigned char *)(info->dlpi_addr + header->p_vaddr);
        size_t left = header->p_memsz;
        while (left >= sizeof(ElfW(Nhdr))) {
            const ElfW(Nhdr) *entry = (const ElfW(Nhdr) *)note;
            size_t name_size = (entry->n_namesz + 3) & ~(size_t)3;
            size_t desc_size = (entry->n_descsz + 3) & ~(size_t)3;
            size_t total = sizeof(ElfW(Nhdr)) + name_size + desc_size;
            if (total > left) break;
            if (entry->n_type == NT_GNU_BUILD_ID && entry->n_namesz == 4 &&
                memcmp(note + sizeof(ElfW(Nhdr)), "GNU", 4) == 0) {
                build_id = note + sizeof(ElfW(Nhdr)) + name_size;
                length = entry->n_descsz;
                break;
            }
            note += total;
            left -= total;
        }
    }
    state->visit(state->context, path, base, end, build_id, length);
    return 0;
}

void swalloc_visit_modules(swalloc_module_visitor visit, void *context) {
    struct visit_state state = {visit, context};
    dl_iterate_phdr(visit_one, &state);
}

static int count_loads(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    uint64_t *generation = data;
    *generation = (uint64_t)info->dlpi_adds + ((uint64_t)info->dlpi_subs << 32);
    return 1; /* the first module carries the counts */
}

uint64_t swalloc_loader_generation(void) {
    uint64_t generation = 0;
    dl_iterate_phdr(count_loads, &generation);
    return generation;
}
