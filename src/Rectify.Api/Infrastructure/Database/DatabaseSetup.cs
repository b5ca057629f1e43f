using Dapper;
using Npgsql;

namespace Rectify.Api.Infrastructure.Database;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Folder of the embedded development cluster; <c>.local/postgres</c> under the content root when empty.</summary>
    public string? EmbeddedRoot { get; set; }

    /// <summary>Port of the embedded cluster; a free loopback port (then remembered) when empty.</summary>
    public int? EmbeddedPort { get; set; }

    /// <summary>Whether start-up loads the reference case as demo data (idempotent).</summary>
    public bool LoadDemoData { get; set; } = true;

    /// <summary>Largest number of pooled connections per API node.</summary>
    public int MaxPoolSize { get; set; } = 50;
}

public static class DatabaseSetup
{
    public const string ConnectionStringName = "Rectify";

    /// <summary>
    /// One <see cref="NpgsqlDataSource"/> for the process, the database unit-of-work runner, and the start-up work
    /// (embedded cluster when no connection string is configured, migrations, demo data).
    /// </summary>
    public static IServiceCollection AddRectifyDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        DapperTypeHandlers.Register();
        services.Configure<DatabaseOptions>(configuration.GetSection(DatabaseOptions.Section));
        services.AddSingleton<DatabaseConnection>();
        services.AddSingleton(sp => sp.GetRequiredService<DatabaseConnection>().DataSource);
        services.AddSingleton<Db>();
        services.AddHostedService<DatabaseStartup>();
        return services;
    }
}

/// <summary>
/// Resolves where the database is: the configured connection string, or else the embedded cluster, which it
/// starts on first use and stops when the host stops.
/// </summary>
public sealed class DatabaseConnection(
    IConfiguration configuration,
    Microsoft.Extensions.Options.IOptions<DatabaseOptions> options,
    IHostEnvironment environment,
    ILogger<DatabaseConnection> logger) : IAsyncDisposable
{
    readonly Lazy<NpgsqlDataSource> _dataSource = new(() => Create(configuration, options.Value, environment, logger, out _cluster));
    static EmbeddedPostgres? _cluster;

    public NpgsqlDataSource DataSource => _dataSource.Value;

    static NpgsqlDataSource Create(IConfiguration configuration, DatabaseOptions options, IHostEnvironment environment, ILogger logger, out EmbeddedPostgres? cluster)
    {
        cluster = null;
        var connectionString = configuration.GetConnectionString(DatabaseSetup.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            var root = options.EmbeddedRoot ?? DefaultEmbeddedRoot(environment.ContentRootPath);
            cluster = EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(root, options.EmbeddedPort), message => logger.LogInformation("{Message}", message), CancellationToken.None)
                .GetAwaiter().GetResult();
            cluster.CreateDatabaseAsync("rectify", template: null, CancellationToken.None).GetAwaiter().GetResult();
            connectionString = cluster.AppConnectionString("rectify");
            logger.LogInformation("Using the embedded PostgreSQL cluster in {Root} (127.0.0.1:{Port}, database rectify)", root, cluster.Port);
        }
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!builder.ContainsKey("Max Pool Size")) builder.MaxPoolSize = options.MaxPoolSize;
        if (!builder.ContainsKey("GSS Encryption Mode")) builder.GssEncryptionMode = GssEncryptionMode.Disable;
        builder.ApplicationName ??= "rectify-api";
        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    /// <summary>
    /// <c>.local/postgres</c> in the checkout, unless the postgres system user cannot reach it (a checkout under a
    /// private home folder when running as root): then a folder under /var/tmp named after the checkout.
    /// </summary>
    static string DefaultEmbeddedRoot(string contentRoot)
    {
        var local = Path.Combine(contentRoot, ".local", "postgres");
        if (EmbeddedPostgres.IsReachableBySystemUser(contentRoot)) return local;
        var name = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(contentRoot)))[..12].ToLowerInvariant();
        return Path.Combine("/var/tmp", $"rectify-{name}", "postgres");
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataSource.IsValueCreated) await _dataSource.Value.DisposeAsync();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
            _cluster = null;
        }
    }
}

/// <summary>Brings the database to the current schema (and the demo data) before the server takes requests.</summary>
public sealed class DatabaseStartup(
    DatabaseConnection connection,
    Microsoft.Extensions.Options.IOptions<DatabaseOptions> options,
    IServiceProvider services,
    ILogger<DatabaseStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var dataSource = connection.DataSource;
        await Migrations.ApplyAsync(dataSource, logger, cancellationToken);
        if (options.Value.LoadDemoData)
        {
            await services.GetRequiredService<DemoData.ReferenceCaseLoader>().LoadAsync(cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Dapper 2.1 does not map <see cref="DateOnly"/>, which Npgsql returns for <c>date</c> columns.</summary>
static class DapperTypeHandlers
{
    static int _registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        SqlMapper.AddTypeHandler(new DateOnlyHandler());
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    sealed class DateOnlyHandler : SqlMapper.TypeHandler<DateOnly>
    {
        public override void SetValue(System.Data.IDbDataParameter parameter, DateOnly value)
        {
            parameter.DbType = System.Data.DbType.Date;
            parameter.Value = value;
        }

        public override DateOnly Parse(object value) => value switch
        {
            DateOnly date => date,
            DateTime dateTime => DateOnly.FromDateTime(dateTime),
            _ => throw new InvalidCastException($"Cannot read a date from {value.GetType().Name}."),
        };
    }
}
