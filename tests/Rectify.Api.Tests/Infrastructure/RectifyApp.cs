using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Rectify.Api.Tests.Infrastructure;

/// <summary>
/// The real service over the real HTTP pipeline, on a fresh database of its own (one per test class), with a
/// clock the tests set. Start of the clock: 2025-06-15 12:00 in Shanghai.
/// </summary>
public class RectifyApp(TestCluster cluster) : WebApplicationFactory<Program>, IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2025, 6, 15, 4, 0, 0, TimeSpan.Zero);

    string _connectionString = "";

    FakeTimeProvider? _clock;

    /// <summary>The app whose database, clock and key a second node shares; null for an app of its own.</summary>
    readonly RectifyApp? _first;

    RectifyApp(RectifyApp first) : this(first.TestCluster) => _first = first;

    /// <summary>
    /// Another node over this app's database, with its clock and its key, as a second API process behind a load balancer:
    /// what it keeps in memory is its own. The caller initialises and disposes it.
    /// </summary>
    public RectifyApp SecondNode() => new(this);

    /// <summary>The app's clock, starting at <see cref="ClockStart"/>.</summary>
    public FakeTimeProvider Clock => _clock ??= _first?.Clock ?? new FakeTimeProvider(ClockStart);

    /// <summary>Where the clock starts (<see cref="Start"/> unless a subclass says otherwise).</summary>
    protected virtual DateTimeOffset ClockStart => Start;

    public TestCluster TestCluster => cluster;

    /// <summary>Whether start-up loads the reference case.</summary>
    protected virtual bool LoadDemoData => false;

    public string ConnectionString => _connectionString;

    /// <summary>The calling system every client of this app authenticates as: every scope, every unit.</summary>
    public const string ClientName = "test-suite";

    /// <summary>The API key of <see cref="ClientName"/>, sent by every client <see cref="WebApplicationFactory{T}.CreateClient()"/> makes.</summary>
    public string ApiKey { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        if (_first is not null)
        {
            (_connectionString, ApiKey) = (_first.ConnectionString, _first.ApiKey);
            _ = Server;
            return;
        }
        _connectionString = await cluster.CreateDatabaseAsync();
        ApiKey = await CreateClientAsync(ClientName, Rectify.Api.Infrastructure.Auth.Scopes.All);
        _ = Server; // start the host now, so that migrations and demo data are in place before the first test
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Rectify", _connectionString);
        builder.UseSetting("Database:LoadDemoData", LoadDemoData ? "true" : "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        // Tests send bursts far beyond a client's production rate; the rate limit has its own tests (LimitedApp).
        builder.UseSetting("Rectify:Access:RequestsPerMinute", "1000000");
        builder.UseSetting("Rectify:Access:PushesPerMinute", "1000000");
        // The month-end job would draft snapshots behind the tests' backs; its tests run it by hand.
        builder.UseSetting("Rectify:Snapshots:MonthEndDrafts", "false");
        // So would the daily warnings job record level changes; its tests run it by hand too.
        builder.UseSetting("Rectify:Warnings:DailyJob", "false");
        builder.ConfigureServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Clock);
        });
    }

    /// <summary>A calling system with its own key, straight in the database (as an admin would create it).</summary>
    public async Task<string> CreateClientAsync(string name, IEnumerable<string> scopes, IEnumerable<string>? units = null,
        DateTime? expiresAt = null)
    {
        var (key, prefix, hash) = Rectify.Api.Infrastructure.Auth.ApiKeys.Generate();
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await Dapper.SqlMapper.ExecuteAsync(connection, new Dapper.CommandDefinition("""
            WITH c AS (INSERT INTO clients (name, scopes, units, created_at) VALUES (@name, @scopes, @units, now()) RETURNING id)
            INSERT INTO api_keys (client_id, prefix, key_hash, created_at, expires_at) SELECT id, @prefix, @hash, now(), @expiresAt FROM c
            """, new { name, scopes = scopes.ToArray(), units = units?.ToArray(), prefix, hash, expiresAt },
            cancellationToken: TestContext.Current.CancellationToken));
        return key;
    }

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
    }

    public HttpClient Client()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    /// <summary>A scalar from the test's own database, for checks the API does not expose (row counts).</summary>
    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        return await Dapper.SqlMapper.ExecuteScalarAsync<T>(connection,
            new Dapper.CommandDefinition(sql, args, cancellationToken: TestContext.Current.CancellationToken))
            ?? throw new InvalidOperationException("No value.");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The service with the reference case loaded at start-up.</summary>
public sealed class RectifyAppWithDemoData(TestCluster cluster) : RectifyApp(cluster)
{
    protected override bool LoadDemoData => true;
}
