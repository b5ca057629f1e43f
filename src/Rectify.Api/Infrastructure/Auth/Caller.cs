namespace Rectify.Api.Infrastructure.Auth;

/// <summary>
/// The system on whose behalf a request runs, as the journal and idempotency records name it. Until API clients
/// are authenticated every request is <c>anonymous</c>; access control replaces this one scoped service.
/// </summary>
public sealed class Caller
{
    public const string Anonymous = "anonymous";

    public string Name { get; init; } = Anonymous;
}
