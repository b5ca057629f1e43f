using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Rectify.Api.Infrastructure.Database;

[assembly: AssemblyFixture(typeof(Rectify.Api.Tests.Infrastructure.TestCluster))]

namespace Rectify.Api.Tests.Infrastructure;

/// <summary>
/// One throwaway PostgreSQL cluster for the whole test run, started with the service's own embedded-cluster code,
/// with a migrated template database from which every test class gets a fresh database of its own.
/// </summary>
public sealed class TestCluster : IAsyncLifetime
{
    const string Template = "rectify_template";
    static int _databases;

    public EmbeddedPostgres Cluster { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await RemoveLeftoversOfKilledRunsAsync();
        var root = Path.Combine(Path.GetTempPath(), $"rectify-tests-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Cluster = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(root, Throwaway: true), _ => { }, CancellationToken.None);
        await Cluster.CreateDatabaseAsync(Template, template: null, CancellationToken.None);
        await using (var dataSource = NpgsqlDataSource.Create(Cluster.AppConnectionString(Template)))
        {
            await Migrations.ApplyAsync(dataSource, NullLogger.Instance, CancellationToken.None);
        }
        NpgsqlConnection.ClearAllPools(); // a template cannot be copied while anyone is connected to it
    }

    /// <summary>A new database, migrated (copied from the template), for one test class.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"rectify_test_{Interlocked.Increment(ref _databases)}";
        await Cluster.CreateDatabaseAsync(name, Template, CancellationToken.None);
        return Cluster.AppConnectionString(name) + ";Maximum Pool Size=20";
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await Cluster.DisposeAsync();
    }

    /// <summary>Clusters of earlier runs that were killed before they could clean up: stop and remove them.</summary>
    static async Task RemoveLeftoversOfKilledRunsAsync()
    {
        foreach (var dir in Directory.GetDirectories(Path.GetTempPath(), "rectify-tests-*"))
        {
            var name = Path.GetFileName(dir).Split('-');
            if (name.Length < 3 || !int.TryParse(name[2], out var pid) || pid == Environment.ProcessId || EmbeddedPostgres.IsAlive(pid)) continue;
            await RemoveClusterAsync(dir);
        }
    }

    /// <summary>Stops a cluster that may still be running in <paramref name="root"/> (adopting it) and deletes the folder.</summary>
    public static async Task RemoveClusterAsync(string root)
    {
        if (File.Exists(Path.Combine(root, "data", "postmaster.pid")))
        {
            var leftover = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(root, Throwaway: true), _ => { }, CancellationToken.None);
            await leftover.DisposeAsync();
        }
        else if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
