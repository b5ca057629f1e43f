using Rectify.Api.DemoData;
using Rectify.Api.Features.Clients;
using Rectify.Api.Features.Dashboard;
using Rectify.Api.Features.DataValues;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Report;
using Rectify.Api.Features.Reporting;
using Rectify.Api.Features.Journal;
using Rectify.Api.Features.Measures;
using Rectify.Api.Features.Rounds;
using Rectify.Api.Features.Snapshots;
using Rectify.Api.Features.Units;
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

// Configuration and clock
builder.Services.Configure<RectifyOptions>(builder.Configuration.GetSection(RectifyOptions.Section));
builder.Services.Configure<ResilienceOptions>(builder.Configuration.GetSection(ResilienceOptions.Section));
builder.Services.Configure<ImportOptions>(builder.Configuration.GetSection(ImportOptions.Section));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<Clock>();

// HTTP conventions: strict JSON, validation, problems, OpenAPI
builder.Services.ConfigureHttpJsonOptions(options => JsonSetup.Configure(options.SerializerOptions));
builder.Services.AddValidation();
builder.Services.AddRectifyProblems();
builder.Services.AddRectifyOpenApi();
builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

// Database and the features
builder.Services.AddRectifyDatabase(builder.Configuration);
builder.Services.Configure<StartupOptions>(builder.Configuration.GetSection("Database:Startup"));
builder.Services.AddRectifyHealth();
builder.Services.AddRectifyAccess(builder.Configuration);
builder.Services.AddScoped<Journal>();
builder.Services.AddScoped<IdempotentCreates>();
builder.Services.AddScoped<UnitRepository>();
builder.Services.AddScoped<RoundRepository>();
builder.Services.AddScoped<DashboardRepository>();
builder.Services.AddScoped<IssueRepository>();
builder.Services.AddScoped<MeasureRepository>();
builder.Services.AddScoped<JournalRepository>();
builder.Services.AddScoped<IndicatorRepository>();
builder.Services.AddScoped<IndicatorSeries>();
builder.Services.AddScoped<DataValueImporter>();
builder.Services.AddScoped<DataValueRepository>();
builder.Services.AddScoped<ClientRepository>();
builder.Services.AddScoped<ProgressReportBuilder>();
builder.Services.AddSnapshots(builder.Configuration);
builder.Services.AddSingleton<ReferenceCaseLoader>();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseReadinessGate();
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
app.MapJournal();
app.MapIndicators();
app.MapDataValues();
app.MapReporting();
app.MapSnapshots();
app.MapProgressReport();
app.MapClients();

try
{
    // `keys create …`: the first admin key, from the command line, without starting the server.
    if (args is ["keys", .. var command])
    {
        var exitCode = await ClientCommands.RunAsync(app, command, CancellationToken.None);
        await app.DisposeAsync(); // stops the embedded cluster if the command started it
        return exitCode;
    }
    app.Run();
    return 0;
}
catch (EmbeddedPostgresUnavailableException missing)
{
    // No database configured and none can be started here: say what to do, without a stack trace.
    Console.Error.WriteLine(missing.Message);
    return 2;
}

/// <summary>Entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
