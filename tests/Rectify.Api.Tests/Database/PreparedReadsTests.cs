using System.Net;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Database;

/// <summary>
/// Reads run on a pool of their own whose connections prepare the statements they repeat (PostgreSQL parses and plans
/// them once per connection); writes, and reads streamed to the caller, never prepare.
/// </summary>
public sealed class PreparedReadsTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    const string PreparedSql = "SELECT coalesce(array_agg(statement), '{}') FROM pg_prepared_statements";

    /// <summary>The statements each connection of <paramref name="dataSource"/> keeps prepared (all of its connections, opened at once).</summary>
    async Task<List<string[]>> PreparedPerConnectionAsync(NpgsqlDataSource dataSource)
    {
        var connections = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < 20; i++) connections.Add(await dataSource.OpenConnectionAsync(Ct));
            var prepared = new List<string[]>();
            foreach (var connection in connections)
                prepared.Add(await connection.ExecuteScalarAsync<string[]>(new CommandDefinition(PreparedSql, cancellationToken: Ct)) ?? []);
            return prepared;
        }
        finally
        {
            foreach (var connection in connections) await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_repeated_read_is_prepared_on_the_reads_pool_and_no_write_prepares_anything()
    {
        var seed = new Seed(app);
        await seed.UnitsAsync();
        var issue = await seed.IssueAsync(await seed.RoundAsync());
        var measure = await seed.MeasureAsync((long)issue["id"]!);
        var client = app.Client();
        client.DefaultRequestHeaders.Add("Consistency", "strong"); // each read reaches PostgreSQL, not the node's read cache
        for (var i = 0; i < 6; i++)
        {
            using var response = await client.GetAsync($"/api/v1/measures/{measure["id"]}", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var topology = app.Services.GetRequiredService<DatabaseTopology>();
        var reads = await PreparedPerConnectionAsync(topology.PrimaryReads);
        Assert.Contains(reads, statements => statements.Any(s => s.Contains("FROM measures m", StringComparison.Ordinal)));
        var writes = await PreparedPerConnectionAsync(topology.Primary);
        Assert.All(writes, statements => Assert.Empty(statements));
    }

    [Fact]
    public async Task Prepared_reads_keep_one_generic_plan_and_writes_plan_as_PostgreSQL_chooses()
    {
        var topology = app.Services.GetRequiredService<DatabaseTopology>();
        async Task<string?> PlanCacheModeAsync(NpgsqlDataSource dataSource)
        {
            await using var connection = await dataSource.OpenConnectionAsync(Ct);
            return await connection.ExecuteScalarAsync<string>(new CommandDefinition("SHOW plan_cache_mode", cancellationToken: Ct));
        }

        Assert.Equal("force_generic_plan", await PlanCacheModeAsync(topology.PrimaryReads));
        Assert.Equal("auto", await PlanCacheModeAsync(topology.Primary));
    }
}

/// <summary>
/// A read that fails while its statement is being prepared, inside a transaction that is rolled back, is the case in
/// which Npgsql leaves the prepared statement corrupt (npgsql/npgsql#6391): the next use of it on that connection gets
/// "Received unexpected backend message". The read runner forgets a failed read's prepared statements, so the reads
/// after it work. A reads' pool of one connection, so that every read here takes the same one (writes and the service's
/// background work keep their own pool).
/// </summary>
public sealed class FailedPreparedReadTests(FailedPreparedReadTests.OneConnectionApp app) : IClassFixture<FailedPreparedReadTests.OneConnectionApp>
{
    public sealed class OneConnectionApp(TestCluster cluster) : RectifyApp(cluster)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Database:MaxReadPoolSize", "1");
        }
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    const string DivideSql = "SELECT 10 / @divisor";

    [Fact]
    public async Task The_reads_after_a_read_that_failed_while_being_prepared_work()
    {
        var db = app.Services.GetRequiredService<Db>();
        Task<int> DivideAsync(int divisor) => db.ReadAsync((connection, token) =>
            connection.ExecuteScalarAsync<int>(new CommandDefinition(DivideSql, new { divisor }, cancellationToken: token)), Ct);

        Assert.Equal(10, await DivideAsync(1)); // its first use: not prepared yet (prepared from the second)
        var failure = await Assert.ThrowsAsync<PostgresException>(() => db.ReadAsync(async (connection, token) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(token);
            return await connection.ExecuteScalarAsync<int>(new CommandDefinition(DivideSql, new { divisor = 0 }, transaction, cancellationToken: token));
        }, Ct));
        Assert.Equal(PostgresErrorCodes.DivisionByZero, failure.SqlState);

        for (var i = 1; i <= 5; i++) Assert.Equal(10 / i, await DivideAsync(i));
        var pid = await db.ReadAsync((connection, token) =>
            connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT pg_backend_pid()", cancellationToken: token)), Ct);
        Assert.Equal(pid, await db.ReadAsync((connection, token) =>
            connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT pg_backend_pid()", cancellationToken: token)), Ct));
    }
}
