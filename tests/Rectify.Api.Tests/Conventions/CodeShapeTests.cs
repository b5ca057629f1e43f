using Rectify.Api.Tests.GeneratedClients;

namespace Rectify.Api.Tests.Conventions;

/// <summary>
/// The shape of the service's code as docs/ARCHITECTURE.md states it: lines a reviewer can read (at most 150 characters),
/// and Infrastructure that never refers to a feature (start-up work that needs features is composed in Program.cs).
/// </summary>
public sealed class CodeShapeTests
{
    const int MaxLine = 150;

    static string Source => Path.Combine(ClientStage.RepositoryRoot, "src");

    static string Api => Path.Combine(Source, "Rectify.Api");

    /// <summary>The service's C# files (not build output), as paths relative to <paramref name="root"/> with '/'.</summary>
    static IEnumerable<(string Relative, string Path)> CodeFiles(string root)
        => Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Select(path => (Relative: Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/'), Path: path))
            .Where(f => !f.Relative.Split('/').Any(part => part is "bin" or "obj"))
            .OrderBy(f => f.Relative, StringComparer.Ordinal);

    static IEnumerable<int> LongLines(string path)
        => File.ReadLines(path).Select((line, i) => (line, i)).Where(l => l.line.Length > MaxLine).Select(l => l.i + 1);

    [Fact]
    public void No_line_of_the_services_code_is_longer_than_150_characters()
    {
        var found = CodeFiles(Source)
            .SelectMany(f => LongLines(f.Path).Select(line => $"src/{f.Relative}:{line}"))
            .ToList();
        Assert.True(found.Count == 0, $"Lines over {MaxLine} characters (wrap them):\n{string.Join('\n', found)}");
    }

    [Fact]
    public void Infrastructure_refers_to_no_feature()
    {
        var found = CodeFiles(Path.Combine(Api, "Infrastructure"))
            .SelectMany(f => File.ReadLines(f.Path).Select((line, i) => (line, i))
                .Where(l => l.line.Contains("Rectify.Api.Features", StringComparison.Ordinal)
                    || l.line.Contains("Rectify.Api.DemoData", StringComparison.Ordinal))
                .Select(l => $"Infrastructure/{f.Relative}:{l.i + 1}: {l.line.Trim()}"))
            .ToList();
        Assert.True(found.Count == 0, $"Infrastructure refers to features (compose them in Program.cs):\n{string.Join('\n', found)}");
    }
}
