using Microsoft.Extensions.Options;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.DemoData;

/// <summary>Start-up step: loads the reference case once the schema is current, when <c>Database:LoadDemoData</c> says so.</summary>
public sealed class DemoDataStartup(ReferenceCaseLoader loader, IOptions<DatabaseOptions> options) : IDatabaseStartupStep
{
    public async Task RunAsync(CancellationToken ct)
    {
        if (options.Value.LoadDemoData) await loader.LoadAsync(ct);
    }
}
