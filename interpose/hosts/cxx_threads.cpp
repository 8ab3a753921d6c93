// cxx_threads — C++ exceptions across threads, and forced unwinding
// (pthread_exit, pthread_cancel) through C++ frames with destructors.
// A libunwind linked into the preload library crashed the forced-unwinding
// cases (docs/measurements.md, "libunwind"); this host guards against that.
#include <pthread.h>
#include <unistd.h>
#include <atomic>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

static std::atomic<int> destructors{0};

struct Guard {
    std::string name;
    ~Guard() { destructors++; }
};

static void deep_throw(int depth) {
    Guard guard{std::string(64, 'x')};
    auto data = std::make_unique<std::vector<int>>(100, depth);
    if (depth == 0) throw std::runtime_error("depth reached " + std::to_string(data->size()));
    deep_throw(depth - 1);
}

static void *exits(void *) {
    Guard guard{"exit"};
    auto keep = std::make_unique<std::string>(1000, 'e');
    pthread_exit(nullptr);
}

static void *cancelled(void *) {
    Guard guard{"cancel"};
    auto keep = std::make_unique<std::string>(1000, 'c');
    for (;;) {
        pthread_testcancel();
        usleep(100);
    }
}

int main() {
    std::atomic<int> caught{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; t++) {
        threads.emplace_back([&caught, t] {
            for (int i = 0; i < 200; i++) {
                try {
                    deep_throw(5 + t);
                } catch (const std::exception &e) {
                    if (std::string(e.what()).find("depth reached") == 0) caught++;
                }
            }
        });
    }
    for (auto &thread : threads) thread.join();

    pthread_t a, b;
    pthread_create(&a, nullptr, exits, nullptr);
    pthread_join(a, nullptr);
    pthread_create(&b, nullptr, cancelled, nullptr);
    usleep(2000);
    pthread_cancel(b);
    void *result = nullptr;
    pthread_join(b, &result);

    std::printf("caught=%d cancelled=%d destructors_ok=%d\n", caught.load(),
                result == PTHREAD_CANCELED, destructors.load() >= 8 * 200 + 2);
    return 0;
}
