using Npgsql;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Tests.Database;

/// <summary>The embedded cluster that `dotnet run` starts when no connection string is configured.</summary>
public sealed class EmbeddedPostgresTests : IAsyncLifetime
{
    readonly string _root = Path.Combine(Path.GetTempPath(), $"rectify-tests-{Environment.ProcessId}-embedded-{Guid.NewGuid():N}"[..48]);
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_second_start_reuses_the_cluster_and_its_data()
    {
        var first = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(_root), _ => { }, Ct);
        await first.CreateDatabaseAsync("rectify", null, Ct);
        await ExecuteAsync(first, "CREATE TABLE kept (value text); INSERT INTO kept VALUES ('整改');");
        var port = first.Port;
        await first.DisposeAsync(); // Ctrl-C: stops the cluster, keeps the data

        var second = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(_root), _ => { }, Ct);
        try
        {
            Assert.Equal(port, second.Port); // the port is remembered
            Assert.Equal("整改", await ScalarAsync(second, "SELECT value FROM kept"));
        }
        finally
        {
            await second.DisposeAsync();
        }
        Assert.False(File.Exists(Path.Combine(_root, "data", "postmaster.pid")), "the cluster was not stopped");
    }

    [Fact]
    public async Task A_cluster_left_running_by_a_crash_is_adopted_not_duplicated()
    {
        var crashed = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(_root), _ => { }, Ct);
        await crashed.CreateDatabaseAsync("rectify", null, Ct);
        // The process that started it died without stopping it.
        await File.WriteAllTextAsync(Path.Combine(_root, "owner.pid"), "999999", Ct);
        var postmasterBefore = (await File.ReadAllLinesAsync(Path.Combine(_root, "data", "postmaster.pid"), Ct))[0];

        var adopted = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(_root), _ => { }, Ct);
        Assert.Equal(crashed.Port, adopted.Port);
        Assert.Equal(postmasterBefore, (await File.ReadAllLinesAsync(Path.Combine(_root, "data", "postmaster.pid"), Ct))[0]);
        Assert.Equal("1", await ScalarAsync(adopted, "SELECT '1'"));

        await adopted.DisposeAsync(); // the adopter owns it now and stops it
        Assert.False(File.Exists(Path.Combine(_root, "data", "postmaster.pid")), "the adopted cluster was not stopped");
    }

    [Fact]
    public async Task Without_server_binaries_it_stops_at_once_saying_what_to_install_or_configure()
    {
        var error = await Assert.ThrowsAsync<EmbeddedPostgresUnavailableException>(() =>
            EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(_root, BinariesDirectory: "/nonexistent/bin"), _ => { }, Ct));
        Assert.Contains("apt-get install postgresql", error.Message);
        Assert.Contains("ConnectionStrings__Rectify", error.Message);
    }

    [Fact]
    public async Task The_application_role_is_not_a_superuser()
    {
        var cluster = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(_root), _ => { }, Ct);
        try
        {
            await cluster.CreateDatabaseAsync("rectify", null, Ct);
            Assert.Equal("False", await ScalarAsync(cluster, "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user", capitalise: true));
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    static async Task ExecuteAsync(EmbeddedPostgres cluster, string sql)
    {
        await using var connection = new NpgsqlConnection(cluster.AppConnectionString("rectify") + ";Pooling=false");
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    static async Task<string> ScalarAsync(EmbeddedPostgres cluster, string sql, bool capitalise = false)
    {
        await using var connection = new NpgsqlConnection(cluster.AppConnectionString("rectify") + ";Pooling=false");
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        var value = Convert.ToString(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture) ?? "";
        return capitalise && value.Length > 0 ? char.ToUpperInvariant(value[0]) + value[1..] : value;
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        // Whatever a failed test left running is removed.
        await Infrastructure.TestCluster.RemoveClusterAsync(_root);
    }
}
