using System.Runtime.InteropServices;
using Linkage.DevStack;

// Linkage.DevStack up  [--dir DIR]  start the persistent local stack (data in DIR/data, default .devstack/), print its
//                                   settings as environment-variable lines and run until Ctrl-C / SIGTERM.
// Linkage.DevStack env [--dir DIR]  print the settings of the running stack.
// Linkage.DevStack run              the local end-to-end run (see LocalRun): stack, synthetic data, the app on :7071.
string verb = args.Length > 0 ? args[0] : "";
if (verb == "run")
{
    return await LocalRun.RunAsync(args[1..]);
}

string? dir = args.Length == 3 && args[1] == "--dir" ? Path.GetFullPath(args[2]) : null;
if (verb is not ("up" or "env") || (args.Length != 1 && dir is null))
{
    await Console.Error.WriteLineAsync("usage: Linkage.DevStack up|env [--dir DIR]");
    return 64;
}

var options = LocalStackOptions.ForLocalRun(dir);
using var stop = new CancellationTokenSource();
if (verb == "env")
{
    await using var running = await LocalStack.TryAttachAsync(options.StackFile!, stop.Token);
    if (running is null)
    {
        await Console.Error.WriteLineAsync($"No local stack is running ({options.StackFile} is missing or its servers do not answer). Start one with: dotnet run --project tools/Linkage.DevStack -- up");
        return 1;
    }

    PrintSettings(running);
    return 0;
}

if (await LocalStack.TryAttachAsync(options.StackFile!, stop.Token) is not null)
{
    await Console.Error.WriteLineAsync($"A local stack is already running ({options.StackFile}).");
    return 1;
}

using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
await using var stack = await LocalStack.StartAsync(options, stop.Token);
await stack.PublishAsync(options.StackFile!, stop.Token);
PrintSettings(stack);
Console.WriteLine($"# data: {stack.DataDirectory}; Ctrl-C stops the stack.");
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
    Console.WriteLine("# stopping");
}

return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

static void PrintSettings(LocalStack stack)
{
    foreach (var (name, value) in stack.EnvironmentVariables())
    {
        Console.WriteLine($"{name}={value}");
    }
}
