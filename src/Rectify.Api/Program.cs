using Rectify.Api.DemoData;
using Rectify.Api.Features.Changes;
using Rectify.Api.Features.Clients;
using Rectify.Api.Features.Dashboard;
using Rectify.Api.Features.DataValues;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Report;
using Rectify.Api.Features.Completeness;
using Rectify.Api.Features.Journal;
using Rectify.Api.Features.Measures;
using Rectify.Api.Features.Rounds;
using Rectify.Api.Features.Snapshots;
using Rectify.Api.Features.Units;
using Rectify.Api.Features.Warnings;
using Rectify.Api.Features.Webhooks;
using Rectify.Api.Features.Deadlines;
using Rectify.Api.Features.EvidenceFiles;
using Rectify.Api.Features.SignOffs;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Health;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;
using Rectify.Api.Infrastructure.Telemetry;

var builder = WebApplication.CreateBuilder(args);
builder.ConfigureServerLimits();
builder.AddRectifyTelemetry(); // traces, metrics (OTLP, /metrics), structured logs

// No connection string configured: the embedded development cluster, started now, before the host is built, so that
// nothing in dependency injection waits for it. It stops when the process ends, after the host.
EmbeddedDatabase embedded;
try
{
    using var startupLogging = LoggerFactory.Create(logging => logging
        .AddConfiguration(builder.Configuration.GetSection("Logging")).AddSimpleConsole());
    embedded = await EmbeddedDatabase.StartUnlessConfiguredAsync(builder.Configuration, builder.Environment,
        startupLogging.CreateLogger<EmbeddedDatabase>(), CancellationToken.None);
}
catch (EmbeddedPostgresUnavailableException missing)
{
    // No database configured and none can be started here: say what to do, without a stack trace.
    Console.Error.WriteLine(missing.Message);
    return 2;
}
await using var cluster = embedded;

// Configuration and clock
builder.Services.Configure<RectifyOptions>(builder.Configuration.GetSection(RectifyOptions.Section));
builder.Services.Configure<ResilienceOptions>(builder.Configuration.GetSection(ResilienceOptions.Section));
builder.Services.Configure<ImportOptions>(builder.Configuration.GetSection(ImportOptions.Section));
builder.Services.Configure<SnapshotOptions>(builder.Configuration.GetSection(SnapshotOptions.Section));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<Clock>();

// HTTP conventions: strict JSON, validation, problems, OpenAPI
builder.Services.ConfigureHttpJsonOptions(options => JsonSetup.Configure(options.SerializerOptions));
builder.Services.AddValidation();
builder.Services.AddRectifyProblems();
builder.Services.AddRectifyLanguages(builder.Configuration);
builder.Services.AddRectifyOpenApi();
builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

// Database and the features
builder.Services.AddRectifyDatabase(builder.Configuration, embedded);
builder.Services.AddReadCache(builder.Configuration); // repeated reads from memory until a change is announced
builder.Services.Configure<StartupOptions>(builder.Configuration.GetSection("Database:Startup"));
builder.Services.AddRectifyHealth();
builder.Services.AddRectifyAccess(builder.Configuration);
builder.Services.AddScoped<JournalWriter>();
builder.Services.AddScoped<IdempotentCreates>();
builder.Services.AddScoped<UnitRepository>();
builder.Services.AddScoped<UnitUseCases>();
builder.Services.AddScoped<RoundRepository>();
builder.Services.AddScoped<RoundUseCases>();
builder.Services.AddScoped<DashboardRepository>();
builder.Services.AddScoped<DashboardUseCases>();
builder.Services.AddScoped<IssueRepository>();
builder.Services.AddScoped<IssueUseCases>();
builder.Services.AddScoped<MeasureRepository>();
builder.Services.AddScoped<MeasureUseCases>();
builder.Services.AddScoped<DeadlineRepository>();
builder.Services.AddScoped<DeadlineUseCases>();
builder.Services.Configure<EvidenceFileOptions>(builder.Configuration.GetSection(EvidenceFileOptions.Section));
builder.Services.AddScoped<EvidenceFileRepository>();
builder.Services.AddScoped<EvidenceFileUseCases>();
builder.Services.AddScoped<SignOffRepository>();
builder.Services.AddScoped<SignOffUseCases>();
builder.Services.AddScoped<JournalRepository>();
builder.Services.AddScoped<JournalUseCases>();
builder.Services.AddScoped<IndicatorRepository>();
builder.Services.AddScoped<IndicatorUseCases>();
builder.Services.AddScoped<IndicatorSeries>();
builder.Services.AddScoped<DataValueImport>();
builder.Services.AddScoped<ImportTemplate>();
builder.Services.AddScoped<DataValueUseCases>();
builder.Services.AddScoped<DataValueRepository>();
builder.Services.AddScoped<ClientRepository>();
builder.Services.AddScoped<ClientUseCases>();
builder.Services.AddScoped<CompletenessUseCases>();
builder.Services.AddScoped<ReportRepository>();
builder.Services.AddScoped<ReportUseCases>();
builder.Services.Configure<ReportOptions>(builder.Configuration.GetSection(ReportOptions.Section));
builder.Services.AddSingleton<PdfPrinter>();
builder.Services.AddScoped<SnapshotBuilder>();
builder.Services.AddScoped<SnapshotRepository>();
builder.Services.AddScoped<SnapshotUseCases>();
builder.Services.AddSingleton<PublishedSnapshotTags>();
builder.Services.AddSingleton<MonthEndDrafts>();
builder.Services.AddHostedService(provider => provider.GetRequiredService<MonthEndDrafts>());
builder.Services.Configure<ChangeFeedOptions>(builder.Configuration.GetSection(ChangeFeedOptions.Section));
builder.Services.AddSingleton<ChangeRepository>();
builder.Services.AddScoped<ChangeUseCases>();
builder.Services.AddSingleton<ChangePruning>();
builder.Services.AddHostedService(provider => provider.GetRequiredService<ChangePruning>());
builder.Services.AddWebhooks(builder.Configuration);
builder.Services.Configure<WarningOptions>(builder.Configuration.GetSection(WarningOptions.Section));
builder.Services.AddScoped<WarningRepository>();
builder.Services.AddScoped<WarningUseCases>();
builder.Services.AddSingleton<DailyWarnings>();
builder.Services.AddHostedService(provider => provider.GetRequiredService<DailyWarnings>());
builder.Services.AddSingleton<ReferenceCaseLoader>();

// Start-up, once the schema is current, in this order: the demo data, then (embedded cluster only) the development key.
builder.Services.AddSingleton<IDatabaseStartupStep, DemoDataStartup>();
builder.Services.AddSingleton<IDatabaseStartupStep, DevelopmentKeyStartup>();

var app = builder.Build();

app.UseRectifyLanguages(); // first: problems are said in the caller's language
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseReadinessGate();
app.UseReadConsistency(); // where a request's reads go (Consistency, Min-LSN); before access control, whose key lookup reads
app.UseReadCache(); // a write forgets the node's kept answers before its response starts
app.UseReplayableJsonBodies();
app.MapRectifyOpenApi(); // before access control: the documents are public
app.UseRectifyAccess();
app.MapRectifyTelemetry();
app.MapRectifyHealth();

app.MapUnits();
app.MapRounds();
app.MapDashboard();
app.MapIssues();
app.MapMeasures();
app.MapDeadlines();
app.MapEvidenceFiles();
app.MapSignOffs();
app.MapJournal();
app.MapIndicators();
app.MapDataValues();
app.MapCompleteness();
app.MapSnapshots();
app.MapProgressReport();
app.MapClients();
app.MapChanges();
app.MapWebhooks();
app.MapWarnings();

// `keys create …`: the first admin key, from the command line, without starting the server.
if (args is ["keys", .. var command])
{
    var exitCode = await ClientCommands.RunAsync(app, command, CancellationToken.None);
    await app.DisposeAsync(); // before the embedded cluster stops
    return exitCode;
}
await app.RunAsync();
return 0;

/// <summary>Entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
