// The test suites use the same CLI helpers as the benchmark.
export * from "../scripts/pulumi-cli";
