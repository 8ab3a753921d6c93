// callsites_cxx — allocating functions in a namespace and a class template,
// for demangled C++ names in the profile.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace inventory {
template <typename T>
struct Shelf {
    __attribute__((noinline)) static std::vector<std::unique_ptr<T>> stock(int count) {
        std::vector<std::unique_ptr<T>> items;
        for (int i = 0; i < count; i++) items.push_back(std::make_unique<T>());
        return items;
    }
};

__attribute__((noinline)) std::string *label(int i) { return new std::string(100 + i % 7, 'x'); }
}  // namespace inventory

struct Crate { char payload[200]; };

int main() {
    auto crates = inventory::Shelf<Crate>::stock(300);
    std::vector<std::string *> labels;
    for (int i = 0; i < 50; i++) labels.push_back(inventory::label(i));
    for (auto *l : labels) delete l;
    std::printf("%zu crates\n", crates.size());
    return 0;
}
