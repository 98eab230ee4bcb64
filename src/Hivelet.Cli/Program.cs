using Hivelet.Cli;

return await CliApp.RunAsync(args);
