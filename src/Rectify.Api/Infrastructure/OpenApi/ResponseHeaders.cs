using Microsoft.OpenApi;

namespace Rectify.Api.Infrastructure.OpenApi;

/// <summary>Marks an operation whose success answer carries the resource's version as its ETag.</summary>
public sealed record AnswersWithETag;

/// <summary>
/// The response headers an integrator acts on, documented per answer: ETag (the version for If-Match), Location
/// (where a created resource lives), Idempotent-Replayed (a replayed create), WWW-Authenticate (401) and Retry-After
/// (429, and the 503 problem). The conformance tests hold the live answers to this.
/// </summary>
public static class ResponseHeaders
{
    public const string IdempotentReplayed = "Idempotent-Replayed";

    /// <summary>Declares that the operation's success answer carries the ETag of the resource it returns.</summary>
    public static RouteHandlerBuilder ProducesETag(this RouteHandlerBuilder builder) => builder.WithMetadata(new AnswersWithETag());

    public static void Document(OpenApiOperation operation, IList<object> metadata)
    {
        var withETag = metadata.OfType<AnswersWithETag>().Any();
        var idempotent = operation.Parameters?.Any(p => p.Name == Http.IdempotentCreates.Header) == true;
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (response is not OpenApiResponse answer) continue;
            var success = status.StartsWith('2') && status != "204";
            if ((success || status == "304") && withETag) Add(answer, "ETag", true, "The version of the resource returned: send it in If-Match to change it.");
            if (status == "201") Add(answer, "Location", true, "The path of the created resource.");
            if (success && idempotent) Add(answer, IdempotentReplayed, false, "true when this is the stored answer to an earlier request with the same Idempotency-Key.");
            if (status == "401") Add(answer, "WWW-Authenticate", true, "Bearer, with the reason when a key was sent but is not valid.");
            if (status == "429") Add(answer, "Retry-After", true, "Seconds to wait before the next request.");
            if (status == "503" && answer.Content?.ContainsKey("application/problem+json") == true)
                Add(answer, "Retry-After", true, "Seconds to wait before retrying.");
        }
    }

    static void Add(OpenApiResponse response, string name, bool required, string description)
    {
        response.Headers ??= new Dictionary<string, IOpenApiHeader>();
        response.Headers[name] = new OpenApiHeader { Required = required, Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
    }
}
