using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Clients;

/// <summary>
/// Keys without the API: the command line for the first admin key, and the development admin key that the
/// embedded default creates on first start.
/// </summary>
public static class ClientCommands
{
    const string Usage =
        "usage: keys create --name NAME --scopes admin[,read,write,push,review] [--units CODE,…] [--contact TEXT] [--expires YYYY-MM-DD]";

    /// <summary><c>keys create …</c>: creates a client and its first key, and prints the key once.</summary>
    public static async Task<int> RunAsync(WebApplication app, string[] args, CancellationToken ct)
    {
        if (args is not ["create", .. var rest] || Options(rest) is not { } options || !options.TryGetValue("name", out var name)
            || !options.TryGetValue("scopes", out var scopeList) || ParseScopes(scopeList) is not { } scopes)
        {
            Console.Error.WriteLine(Usage);
            return 64;
        }
        await PrepareDatabaseAsync(app, ct);
        await using var scope = app.Services.CreateSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<Db>();
        var clients = scope.ServiceProvider.GetRequiredService<ClientUseCases>();
        try
        {
            var issued = await db.WriteAsync(async (tx, token) =>
            {
                var client = await clients.CreateAsync(tx, new CreateClientRequest
                {
                    Name = name, Contact = options.GetValueOrDefault("contact"), Scopes = scopes,
                    Units = options.TryGetValue("units", out var units)
                        ? units.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : null,
                }, token);
                DateTime? expires = options.TryGetValue("expires", out var date)
                    ? DateTime.SpecifyKind(DateTime.Parse(date, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc) : null;
                return await clients.IssueKeyAsync(tx, client.Id, expires, token);
            }, ct);
            Console.WriteLine($"Client '{issued.Client}' created. Its API key (shown once, store it now):");
            Console.WriteLine(issued.Key);
            return 0;
        }
        catch (Refusal refusal)
        {
            Console.Error.WriteLine(refusal.Describe());
            return 1;
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation)
        {
            Console.Error.WriteLine($"A client named '{name}' already exists.");
            return 1;
        }
    }

    /// <summary>
    /// On the embedded development cluster, the first start creates a client <c>dev-admin</c> with every scope,
    /// writes its key to a git-ignored file and prints it once, so that Swagger UI can be used at once.
    /// </summary>
    public static async Task EnsureDevelopmentKeyAsync(IServiceProvider services, string keyFile, ILogger logger, CancellationToken ct)
    {
        await using var scope = services.CreateSystemScope();
        var issued = await scope.ServiceProvider.GetRequiredService<ClientUseCases>().CreateFirstAdminAsync(
            new CreateClientRequest { Name = "dev-admin", Contact = "local development", Scopes = Enum.GetValues<ClientScope>() }, ct);
        if (issued is null) return;
        Directory.CreateDirectory(Path.GetDirectoryName(keyFile)!);
        await File.WriteAllTextAsync(keyFile, issued.Key + Environment.NewLine, ct);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // Printed on the console once, on purpose and not through the log, which may be shipped elsewhere.
        Console.WriteLine($"Development admin key (every scope), saved in {keyFile}; use it as 'Authorization: Bearer <key>' or in Swagger UI's " +
            $"Authorize:");
        Console.WriteLine(issued.Key);
        logger.LogInformation("Created the development admin client 'dev-admin' (key prefix {Prefix}) and saved its key to {File}", issued.Prefix,
            keyFile);
    }

    static async Task PrepareDatabaseAsync(WebApplication app, CancellationToken ct)
    {
        await Migrations.ApplyAsync(app.Services.GetRequiredService<Npgsql.NpgsqlDataSource>(), app.Logger, ct);
    }

    /// <summary>The scopes of <c>--scopes read,write</c>, as the API names them; null when one is not a scope.</summary>
    static ClientScope[]? ParseScopes(string list)
    {
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var scopes = Enum.GetValues<ClientScope>().ToDictionary(EnumText.Format, StringComparer.Ordinal);
        return names.Length > 0 && names.All(scopes.ContainsKey) ? [.. names.Select(n => scopes[n])] : null;
    }

    static Dictionary<string, string>? Options(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length) return null;
            options[args[i][2..]] = args[i + 1];
        }
        return options;
    }
}
