// Shared by the C# client programs (NSwag, Kiota): the generated-client tests copy it beside each program.
static class ProgramChecks
{
    /// <summary>Runs an integrator's calls: 0 when every check held, 1 (with the failure printed) otherwise.</summary>
    public static async Task<int> RunAsync(Func<Task> calls)
    {
        try
        {
            await calls();
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(e);
            return 1;
        }
    }

    public static string Required(string name)
        => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{name} is not set.");

    public static void Check(bool condition, string message)
    {
        if (!condition) throw new InvalidOperationException(message);
    }
}
