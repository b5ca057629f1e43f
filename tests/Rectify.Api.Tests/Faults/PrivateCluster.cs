using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Faults;

/// <summary>
/// A PostgreSQL cluster of one test class's own, started with the service's embedded-cluster code, for faults that
/// restart the server: the shared <see cref="TestCluster"/> serves every other test class in parallel and must never
/// go down. Its folder is named like the shared one's, so that a later run removes it if this run is killed.
/// </summary>
public sealed class PrivateCluster : IAsyncLifetime
{
    public EmbeddedPostgres Server { get; private set; } = null!;

    /// <summary>The application role's connection string to the database <c>rectify</c> (the service migrates it at start-up).</summary>
    public string ConnectionString { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), $"rectify-tests-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Server = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(root, Throwaway: true), _ => { }, CancellationToken.None);
        await Server.CreateDatabaseAsync("rectify", template: null, CancellationToken.None);
        ConnectionString = Server.AppConnectionString("rectify");
    }

    /// <summary><c>pg_ctl restart -m fast</c>: every backend is terminated, the server stops and starts again on the same port.</summary>
    public Task RestartAsync(CancellationToken ct) => Server.RestartAsync(ct);

    /// <summary><c>pg_ctl stop -m fast</c>: every backend is terminated and new connections are refused until <see cref="StartAsync"/>.</summary>
    public Task StopAsync(CancellationToken ct) => Server.StopServerAsync(ct);

    /// <summary>Starts the stopped server again on the same port.</summary>
    public Task StartAsync(CancellationToken ct) => Server.StartServerAsync(ct);

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>A class fixture: a <see cref="PrivateCluster"/> and the service on it, with the default resilience settings.</summary>
public sealed class PrivateClusterService : IAsyncLifetime
{
    public PrivateCluster Cluster { get; } = new();

    public StandaloneApp App { get; private set; } = null!;

    public FaultDatabase Database { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await Cluster.InitializeAsync();
        App = new StandaloneApp(Cluster.ConnectionString);
        Database = new FaultDatabase(Cluster.ConnectionString);
        _ = App.Server; // starts the service, which migrates the database
        App.ApiKey = await TestKeys.CreateAsync(Cluster.ConnectionString, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
