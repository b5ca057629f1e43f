using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace Rectify.Api.Infrastructure.Database;

/// <summary>
/// A private PostgreSQL cluster started from the machine's server binaries: the service's default when no
/// connection string is configured, and the tests' throwaway database server. One piece of code serves both.
/// </summary>
/// <remarks>
/// Layout of <see cref="EmbeddedPostgresOptions.Root"/>: <c>data/</c> (PGDATA), <c>postgres.log</c>,
/// <c>port</c>, <c>superuser.secret</c> and <c>app.secret</c> (generated passwords, never logged), and
/// <c>owner.pid</c> (the process that started the running cluster, so that a leftover of a crash is adopted).
/// PostgreSQL refuses to run as root, so when this process is root every server command runs as the
/// <c>postgres</c> system user, which must own the folder.
/// </remarks>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    public const string AppRole = "rectify";
    const string SystemUser = "postgres";

    readonly EmbeddedPostgresOptions _options;
    readonly string _binaries;
    readonly bool _owned;
    readonly string _superuserPassword;

    EmbeddedPostgres(EmbeddedPostgresOptions options, string binaries, int port, bool owned, string superuserPassword, string appPassword)
    {
        _options = options;
        _binaries = binaries;
        _owned = owned;
        _superuserPassword = superuserPassword;
        Port = port;
        AppPassword = appPassword;
    }

    public int Port { get; }
    string AppPassword { get; }
    string DataDirectory => Path.Combine(_options.Root, "data");

    /// <summary>Connection string of the cluster's superuser: for creating databases, never for serving requests.</summary>
    public string SuperuserConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = SystemUser, Password = _superuserPassword, Database = database,
        GssEncryptionMode = GssEncryptionMode.Disable, Pooling = false,
    }.ConnectionString;

    /// <summary>Connection string of the least-privileged role that owns the application's databases.</summary>
    public string AppConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = AppRole, Password = AppPassword, Database = database,
        GssEncryptionMode = GssEncryptionMode.Disable,
    }.ConnectionString;

    /// <summary>Starts (or reuses) the cluster under <paramref name="options"/>.Root and makes sure the application role exists.</summary>
    public static async Task<EmbeddedPostgres> StartAsync(EmbeddedPostgresOptions options, Action<string> log, CancellationToken ct)
    {
        var binaries = FindBinaries(options.BinariesDirectory)
            ?? throw new EmbeddedPostgresUnavailableException(
                "No PostgreSQL server binaries were found (looked for initdb and pg_ctl on PATH and under /usr/lib/postgresql/*/bin). " +
                "Install them (Debian/Ubuntu: apt-get install postgresql) or configure an existing database with the connection " +
                "string ConnectionStrings__Rectify.");

        Directory.CreateDirectory(options.Root);
        GiveToSystemUser(options.Root);
        EnsureReachableBySystemUser(options.Root);

        var superuserPassword = ReadOrCreateSecret(Path.Combine(options.Root, "superuser.secret"));
        var appPassword = ReadOrCreateSecret(Path.Combine(options.Root, "app.secret"));
        var dataDirectory = Path.Combine(options.Root, "data");

        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            log($"Creating a PostgreSQL cluster in {dataDirectory}");
            await InitializeAsync(binaries, options, dataDirectory, superuserPassword, ct);
        }

        var runningPort = await RunningPortAsync(binaries, dataDirectory, ct);
        bool owned;
        int port;
        if (runningPort is { } existing)
        {
            // A cluster is already up on this folder: another instance of the service, or a leftover of a crash.
            // Never start a second postmaster; adopt a leftover so that it is stopped when this process stops.
            port = existing;
            owned = !IsAlive(ReadOwner(options.Root));
            log(owned
                ? $"Adopting the PostgreSQL cluster left running on port {port}"
                : $"Reusing the PostgreSQL cluster on port {port}, started by another running process");
        }
        else
        {
            port = options.Port ?? ReadStoredPort(options.Root) ?? FreeLoopbackPort();
            log($"Starting PostgreSQL on 127.0.0.1:{port}");
            await RunServerCommandAsync(binaries, "pg_ctl", ct,
                "-D", dataDirectory, "-l", Path.Combine(options.Root, "postgres.log"), "-w", "-t", "60",
                "-o", $"-p {port}", "start");
            owned = true;
        }
        if (owned) File.WriteAllText(Path.Combine(options.Root, "owner.pid"), Environment.ProcessId.ToString());
        File.WriteAllText(Path.Combine(options.Root, "port"), port.ToString());

        var cluster = new EmbeddedPostgres(options, binaries, port, owned, superuserPassword, appPassword);
        await cluster.EnsureAppRoleAsync(ct);
        return cluster;
    }

    /// <summary>Creates <paramref name="database"/> (owned by the application role) unless it exists; optionally copies a template.</summary>
    public async Task CreateDatabaseAsync(string database, string? template, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(SuperuserConnectionString());
        await connection.OpenAsync(ct);
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = database });
            if (await exists.ExecuteScalarAsync(ct) is not null) return;
        }
        // Identifiers cannot be parameters; they are quoted here and come from code, never from a request.
        var templateClause = template is null ? "" : $" TEMPLATE {QuoteIdentifier(template)}";
        await using var create = new NpgsqlCommand(
            $"CREATE DATABASE {QuoteIdentifier(database)} OWNER {AppRole}{templateClause} ENCODING 'UTF8'", connection);
        await create.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Stops the cluster when this process started or adopted it; deletes it when it was a throwaway one.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_owned)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await RunServerCommandAsync(_binaries, "pg_ctl", timeout.Token,
                    "-D", DataDirectory, "-w", "-t", "50", "-m", _options.Throwaway ? "immediate" : "fast", "stop");
                File.Delete(Path.Combine(_options.Root, "owner.pid"));
            }
            catch (Exception) when (_options.Throwaway)
            {
                // A throwaway cluster that will not stop is removed below all the same.
            }
        }
        if (_options.Throwaway)
        {
            try { Directory.Delete(_options.Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// A streaming standby of this cluster in <paramref name="options"/>.Root, started on a free loopback port: a copy
    /// taken with <c>pg_basebackup -R -X stream</c> (which writes <c>primary_conninfo</c> and <c>standby.signal</c>),
    /// then <paramref name="settings"/> appended to its configuration. For tests of reads from standbys.
    /// </summary>
    public async Task<EmbeddedPostgres> StartStandbyAsync(EmbeddedPostgresOptions options, IEnumerable<string> settings, CancellationToken ct)
    {
        Directory.CreateDirectory(options.Root);
        GiveToSystemUser(options.Root);
        EnsureReachableBySystemUser(options.Root);
        var data = Path.Combine(options.Root, "data");
        // The password travels in the environment, not on a command line other users can read; -R writes it into primary_conninfo.
        await RunServerCommandAsync(_binaries, "pg_basebackup", ct, allowFailure: false, new Dictionary<string,
            string> { ["PGPASSWORD"] = _superuserPassword },
            "-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", SystemUser,
            "-D", data, "-R", "-X", "stream", "-c", "fast", "--no-sync");
        await File.AppendAllLinesAsync(Path.Combine(data, "postgresql.conf"), ["", "# Rectify standby", "hot_standby = on", .. settings], ct);
        var port = options.Port ?? FreeLoopbackPort();
        await RunServerCommandAsync(_binaries, "pg_ctl", ct,
            "-D", data, "-l", Path.Combine(options.Root, "postgres.log"), "-w", "-t", "60", "-o", $"-p {port}", "start");
        File.WriteAllText(Path.Combine(options.Root, "owner.pid"), Environment.ProcessId.ToString());
        File.WriteAllText(Path.Combine(options.Root, "port"), port.ToString());
        return new EmbeddedPostgres(options, _binaries, port, owned: true, _superuserPassword, AppPassword);
    }

    /// <summary>Restarts the server (for fault tests): <c>pg_ctl restart -m fast</c>.</summary>
    public Task RestartAsync(CancellationToken ct) => RunServerCommandAsync(_binaries, "pg_ctl", ct,
        "-D", DataDirectory, "-l", Path.Combine(_options.Root, "postgres.log"), "-w", "-t", "60", "-m", "fast",
        "-o", $"-p {Port}", "restart");

    /// <summary>Stops the server (for fault tests): <c>pg_ctl stop -m fast</c>; connections are refused until <see
    /// cref="StartServerAsync"/>.</summary>
    public Task StopServerAsync(CancellationToken ct) => RunServerCommandAsync(_binaries, "pg_ctl", ct,
        "-D", DataDirectory, "-w", "-t", "60", "-m", "fast", "stop");

    /// <summary>Starts the server stopped by <see cref="StopServerAsync"/> again, on the same port.</summary>
    public Task StartServerAsync(CancellationToken ct) => RunServerCommandAsync(_binaries, "pg_ctl", ct,
        "-D", DataDirectory, "-l", Path.Combine(_options.Root, "postgres.log"), "-w", "-t", "60", "-o", $"-p {Port}", "start");

    async Task EnsureAppRoleAsync(CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(SuperuserConnectionString());
        await connection.OpenAsync(ct);
        // The role's password is a generated secret and cannot be a bind parameter in DDL: it is quoted as a literal.
        var sql = $"""
            DO $$
            BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{AppRole}') THEN
                CREATE ROLE {AppRole} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {QuoteLiteral(AppPassword)};
              END IF;
            END $$;
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    static async Task InitializeAsync(string binaries, EmbeddedPostgresOptions options, string dataDirectory, string superuserPassword,
        CancellationToken ct)
    {
        if (Directory.Exists(dataDirectory)) Directory.Delete(dataDirectory, recursive: true); // a half-made cluster of an interrupted initdb
        var passwordFile = Path.Combine(options.Root, "initdb.pw");
        await File.WriteAllTextAsync(passwordFile, superuserPassword, ct);
        GiveToSystemUser(passwordFile);
        try
        {
            await RunServerCommandAsync(binaries, "initdb", ct,
                "-D", dataDirectory, "-U", SystemUser, "--auth=scram-sha-256", $"--pwfile={passwordFile}",
                "--encoding=UTF8", "--no-locale", "--no-instructions");
        }
        finally
        {
            File.Delete(passwordFile);
        }
        var settings = new List<string>
        {
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
            "max_connections = 200",
            "shared_buffers = 128MB",
            "timezone = 'UTC'",
            "log_timezone = 'UTC'",
        };
        if (options.Throwaway)
        {
            // Test data is disposable: trade durability for speed.
            settings.AddRange(["fsync = off", "synchronous_commit = off", "full_page_writes = off"]);
        }
        await File.AppendAllLinesAsync(Path.Combine(dataDirectory, "postgresql.conf"), ["", "# Rectify embedded cluster", .. settings], ct);
    }

    static async Task<int?> RunningPortAsync(string binaries, string dataDirectory, CancellationToken ct)
    {
        var status = await RunServerCommandAsync(binaries, "pg_ctl", ct, allowFailure: true, "-D", dataDirectory, "status");
        if (status.ExitCode != 0) return null;
        // postmaster.pid line 4 is the port the running server listens on.
        var lines = await File.ReadAllLinesAsync(Path.Combine(dataDirectory, "postmaster.pid"), ct);
        return lines.Length > 3 && int.TryParse(lines[3], out var port) ? port : null;
    }

    static string? FindBinaries(string? configured)
    {
        static bool HasServer(string dir) => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));

        if (configured is not null) return HasServer(configured) ? configured : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var pgCtl = Path.Combine(dir, "pg_ctl");
            if (!File.Exists(pgCtl)) continue;
            // Debian links pg_ctl into /usr/local/bin or /usr/bin; the server binaries sit beside the link's target.
            var target = File.ResolveLinkTarget(pgCtl, returnFinalTarget: true)?.FullName ?? pgCtl;
            var real = Path.GetDirectoryName(target)!;
            if (HasServer(real)) return real;
        }
        const string debianRoot = "/usr/lib/postgresql";
        if (!Directory.Exists(debianRoot)) return null;
        return Directory.GetDirectories(debianRoot)
            .Select(dir => (dir, version: int.TryParse(Path.GetFileName(dir), out var v) ? v : 0))
            .OrderByDescending(x => x.version)
            .Select(x => Path.Combine(x.dir, "bin"))
            .FirstOrDefault(HasServer);
    }

    static bool RunningAsRoot => Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows();

    static Task<(int ExitCode, string Output)> RunServerCommandAsync(string binaries, string tool, CancellationToken ct, params string[] args)
        => RunServerCommandAsync(binaries, tool, ct, allowFailure: false, args);

    static Task<(int ExitCode, string Output)> RunServerCommandAsync(string binaries, string tool, CancellationToken ct, bool allowFailure,
        params string[] args)
        => RunServerCommandAsync(binaries, tool, ct, allowFailure, new Dictionary<string, string>(), args);

    static async Task<(int ExitCode, string Output)> RunServerCommandAsync(string binaries, string tool, CancellationToken ct, bool allowFailure,
        IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var executable = Path.Combine(binaries, tool);
        var start = RunningAsRoot
            ? new ProcessStartInfo("runuser") { ArgumentList = { "-u", SystemUser, "--", executable } }
            : new ProcessStartInfo(executable);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        return await RunAsync(start, tool, allowFailure, ct);
    }

    static async Task<(int ExitCode, string Output)> RunAsync(ProcessStartInfo start, string tool, bool allowFailure, CancellationToken ct)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true; // pg_ctl's server must not inherit the service's console
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}");
        process.StandardInput.Close();
        // pg_ctl start leaves the postmaster holding inherited pipes open; read to end only what the tool itself writes.
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var output = await WithinAsync(stdout) + await WithinAsync(stderr);
        if (process.ExitCode != 0 && !allowFailure)
            throw new InvalidOperationException($"{tool} failed ({process.ExitCode}): {output.Trim()}");
        return (process.ExitCode, output);
    }

    static async Task<string> WithinAsync(Task<string> read)
    {
        var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(2)));
        return finished == read ? await read : "";
    }

    static void GiveToSystemUser(string path)
    {
        if (!RunningAsRoot) return;
        using var chown = Process.Start(new ProcessStartInfo("chown", ["-R", $"{SystemUser}:{SystemUser}", path]) { UseShellExecute = false })!;
        chown.WaitForExit();
        if (chown.ExitCode != 0) throw new InvalidOperationException($"Could not give {path} to the {SystemUser} user.");
    }

    static void EnsureReachableBySystemUser(string root)
    {
        if (!RunningAsRoot) return;
        using var probe = Process.Start(new ProcessStartInfo("runuser", ["-u", SystemUser, "--", "test", "-w", root]) { UseShellExecute = false })!;
        probe.WaitForExit();
        if (probe.ExitCode != 0)
            throw new EmbeddedPostgresUnavailableException(
                $"The folder {root} is not reachable by the '{SystemUser}' user that must run PostgreSQL (a folder above it is private). " +
                "Set Database:EmbeddedRoot to a folder that user can reach.");
    }

    /// <summary>Whether <paramref name="root"/> and every folder above it can be traversed by the postgres user.</summary>
    public static bool IsReachableBySystemUser(string root)
    {
        if (!RunningAsRoot) return true;
        var existing = root;
        while (!Directory.Exists(existing)) existing = Path.GetDirectoryName(existing) ?? "/";
        using var probe =
            Process.Start(new ProcessStartInfo("runuser", ["-u", SystemUser, "--", "test", "-x", existing]) { UseShellExecute = false })!;
        probe.WaitForExit();
        return probe.ExitCode == 0;
    }

    static string ReadOrCreateSecret(string path)
    {
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        File.WriteAllText(path, secret);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return secret;
    }

    static int? ReadStoredPort(string root)
        => File.Exists(Path.Combine(root, "port")) && int.TryParse(File.ReadAllText(Path.Combine(root, "port")), out var port) ? port : null;

    static int? ReadOwner(string root)
        => File.Exists(Path.Combine(root, "owner.pid")) && int.TryParse(File.ReadAllText(Path.Combine(root, "owner.pid")), out var pid) ? pid : null;

    /// <summary>Whether another process with this id runs; a zombie (killed, not yet reaped) counts as dead.</summary>
    public static bool IsAlive(int? pid)
    {
        if (pid is null || pid == Environment.ProcessId) return false;
        var stat = $"/proc/{pid}/stat";
        if (File.Exists(stat))
        {
            try
            {
                var text = File.ReadAllText(stat);
                var state = text.AsSpan(text.LastIndexOf(')') + 2).TrimStart()[0];
                return state is not ('Z' or 'X');
            }
            catch (IOException) { return false; }
        }
        try { using var process = Process.GetProcessById(pid.Value); return !process.HasExited; }
        catch (ArgumentException) { return false; }
    }

    static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    static string QuoteLiteral(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}

/// <param name="Root">Folder that holds the cluster (created if missing).</param>
/// <param name="Port">Port to listen on; a free loopback port (remembered for the next start) when null.</param>
/// <param name="Throwaway">Tuned for speed over durability and deleted when disposed: the tests' cluster.</param>
/// <param name="BinariesDirectory">Folder of initdb and pg_ctl; searched on PATH and under /usr/lib/postgresql when null.</param>
public sealed record EmbeddedPostgresOptions(string Root, int? Port = null, bool Throwaway = false, string? BinariesDirectory = null);

public sealed class EmbeddedPostgresUnavailableException(string message) : Exception(message);
