# sluice: the two user commands are `make demo` and `make test`.
#   make          build build/sluice (Release)
#   make demo     install what is missing, build, run the demo
#   make test     install what is missing, build, run every test: unit and
#                 end-to-end (Release), the same under ASan+UBSan, and a short
#                 fuzz pass of every decoder
#   make bench    sluice against DuckDB on the reference workload
#   make bench-pipeline  sluice run against kcat and convert; 200-stream checkpoints and a
#                        hot reload; the CPU cost of audit counts and metrics
#   make format   clang-format every C file
JOBS ?= $(shell nproc)
CMAKE ?= cmake

.PHONY: all deps demo test test-release test-asan test-fuzz bench bench-pipeline format clean

all: deps
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(CMAKE) --build build -j$(JOBS)

deps:
	@scripts/deps.sh build

demo: all
	@scripts/demo.sh

test: test-deps test-release test-asan test-fuzz
	@echo "make test: all suites passed"

test-deps:
	@scripts/deps.sh test

test-release: all
	cd build && ctest --output-on-failure -j$(JOBS)

test-asan: test-deps
	$(CMAKE) -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSL_SANITIZE=ON >/dev/null
	$(CMAKE) --build build-asan -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j$(JOBS)

test-fuzz: test-deps
	$(CMAKE) -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSL_FUZZ=ON -DCMAKE_C_COMPILER=clang >/dev/null
	$(CMAKE) --build build-fuzz -j$(JOBS)
	cd build-fuzz && ctest --output-on-failure -L fuzz -j$(JOBS)

bench: all
	@scripts/deps.sh bench
	@bench/run.sh

bench-pipeline: all
	@scripts/deps.sh bench
	@bench/pipeline.sh
	@bench/streams.sh
	@bench/overhead.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
