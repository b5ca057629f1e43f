using DbUp;
using Npgsql;

namespace Rectify.Api.Infrastructure.Database;

/// <summary>Applies the numbered scripts under <c>Migrations/</c> with DbUp, each in its own transaction.</summary>
public static class Migrations
{
    // Several API nodes may start at once; only one may migrate.
    const long MigrationLock = 0x5245_4354_4946_0001;

    public static async Task ApplyAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken ct)
    {
        await using var lockConnection = await dataSource.OpenConnectionAsync(ct);
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock($1)", lockConnection))
        {
            take.Parameters.Add(new NpgsqlParameter { Value = MigrationLock });
            await take.ExecuteNonQueryAsync(ct);
        }
        try
        {
            var upgrader = DeployChanges.To
                .PostgresqlDatabase(new DbUp.Postgresql.PostgresqlConnectionManager(dataSource))
                .WithScriptsEmbeddedInAssembly(typeof(Migrations).Assembly, name => name.Contains(".Migrations.", StringComparison.Ordinal))
                .WithTransactionPerScript()
                .JournalToPostgresqlTable("public", "schema_versions")
                .LogTo(new DbUpLog(logger))
                .Build();
            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
                throw new InvalidOperationException($"Migration {result.ErrorScript?.Name} failed.", result.Error);
        }
        finally
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", lockConnection);
            release.Parameters.Add(new NpgsqlParameter { Value = MigrationLock });
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    sealed class DbUpLog(ILogger logger) : DbUp.Engine.Output.IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }
        public void LogDebug(string format, params object[] args) { }
        public void LogInformation(string format, params object[] args) =>
            logger.LogInformation("{Migration}", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
        public void LogWarning(string format, params object[] args) =>
            logger.LogWarning("{Migration}", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
        public void LogError(string format, params object[] args) =>
            logger.LogError("{Migration}", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
        public void LogError(Exception ex, string format, params object[] args) =>
            logger.LogError(ex, "{Migration}", string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
    }
}
