using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Clients;

/// <summary>Start-up step: on the embedded development cluster, the first start creates the development admin key.</summary>
public sealed class DevelopmentKeyStartup(EmbeddedDatabase embedded, IServiceProvider services, ILogger<DevelopmentKeyStartup> logger)
    : IDatabaseStartupStep
{
    public Task RunAsync(CancellationToken ct)
        => embedded.IsRunning ? ClientCommands.EnsureDevelopmentKeyAsync(services, embedded.DevelopmentKeyFile, logger, ct) : Task.CompletedTask;
}
