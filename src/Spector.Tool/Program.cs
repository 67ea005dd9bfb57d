using Spector.Tool;

return await SpectorCommandLine.InvokeAsync(new AssemblyAppSource(), args);
