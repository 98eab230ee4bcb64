using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Hivelet.Bench.HashBenchmarks).Assembly).Run(args);
