using Microsoft.OpenApi;

namespace Rectify.Api.Infrastructure.OpenApi;

/// <summary>Marks an operation whose success answer carries a version as its ETag, saying whose.</summary>
public sealed record AnswersWithETag(string Description);

/// <summary>Where the Location of a 201 points when it is not the created resource (a progress entry: its measure).</summary>
public sealed record CreatedLocation(string Description);

/// <summary>
/// The response headers an integrator acts on, documented per answer: ETag (the version for If-Match), Location
/// (where a created resource lives), Idempotent-Replayed (a replayed create), WWW-Authenticate (401) and Retry-After
/// (429, and the 503 problem). The conformance tests hold the live answers to this.
/// </summary>
public static class ResponseHeaders
{
    const string ResourceVersion = "The version of the resource returned: send it in If-Match to change it.";

    /// <summary>Declares that the operation's success answer carries an ETag: the returned resource's version unless said otherwise.</summary>
    public static RouteHandlerBuilder ProducesETag(this RouteHandlerBuilder builder, string description = ResourceVersion)
        => builder.WithMetadata(new AnswersWithETag(description));

    /// <summary>Declares where the Location of the operation's 201 points, when not at the created resource itself.</summary>
    public static RouteHandlerBuilder WithLocation(this RouteHandlerBuilder builder, string description) =>
        builder.WithMetadata(new CreatedLocation(description));

    public static void Document(OpenApiOperation operation, IList<object> metadata)
    {
        var etag = metadata.OfType<AnswersWithETag>().FirstOrDefault();
        var location = metadata.OfType<CreatedLocation>().FirstOrDefault()?.Description ?? "The path of the created resource.";
        var idempotent = operation.Parameters?.Any(p => p.Name == Http.IdempotentCreates.Header) == true;
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (response is not OpenApiResponse answer) continue;
            var success = status.StartsWith('2') && status != "204";
            if ((success || status == "304") && etag is not null) Add(answer, "ETag", true, etag.Description);
            if (status == "201") Add(answer, "Location", true, location);
            if (success && idempotent)
                Add(answer, Http.IdempotentCreates.ReplayedHeader, false,
                    "true when this is the stored answer to an earlier request with the same Idempotency-Key.");
            if (status == "401") Add(answer, "WWW-Authenticate", true, "Bearer, with the reason when a key was sent but is not valid.");
            if (status == "429") Add(answer, "Retry-After", true, "Seconds to wait before the next request.");
            if (status == "503" && answer.Content?.ContainsKey("application/problem+json") == true)
                Add(answer, "Retry-After", true, "Seconds to wait before retrying.");
        }
    }

    /// <summary>
    /// Read-your-writes with standbys: a GET takes <c>Consistency</c> and <c>Min-LSN</c>; a write's success answer carries
    /// <c>Min-LSN</c> (when the service reads from standbys).
    /// </summary>
    public static void DocumentReadConsistency(OpenApiOperation operation, string? method)
    {
        if (string.Equals(method, "GET", StringComparison.OrdinalIgnoreCase))
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = Database.ReadConsistencySetup.ConsistencyHeader, In = ParameterLocation.Header, Required = false,
                Description =
                    "strong: read from the primary now, neither from a standby nor from the node's read cache, so that the answer includes every " +
                    "write committed before, by anyone. eventual (the default): a standby may answer, up to its replication lag behind; with one " +
                    "database server, a repeated read may be answered from the node's memory, never behind a write made through the same node " +
                    "and up to the change notification's delay (milliseconds) behind one made elsewhere.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String,
                    Enum = [Database.ReadConsistencySetup.Strong, Database.ReadConsistencySetup.Eventual] },
            });
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = Database.ReadConsistencySetup.MinLsnHeader, In = ParameterLocation.Header, Required = false,
                Description =
                    "The Min-LSN a write answered: a standby serves this read only once it has replayed that far, else the primary does, so the " +
                    "read sees that write.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$" },
            });
            return;
        }
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (response is OpenApiResponse answer && status.StartsWith('2'))
                Add(answer, Database.ReadConsistencySetup.MinLsnHeader, false,
                    "With standbys configured: the WAL position after this write's commit. Send it as Min-LSN on a later GET to read this write.");
        }
    }

    static void Add(OpenApiResponse response, string name, bool required, string description)
    {
        response.Headers ??= new Dictionary<string, IOpenApiHeader>();
        response.Headers[name] =
            new OpenApiHeader { Required = required, Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
    }
}
