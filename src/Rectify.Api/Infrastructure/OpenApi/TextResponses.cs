using Microsoft.OpenApi;

namespace Rectify.Api.Infrastructure.OpenApi;

/// <summary>
/// Answers that are text but not JSON (the HTML and Markdown report, CSV exports) are described as binary strings:
/// generators read a plain string schema as a JSON string and fail on the first character of the page (NSwag) or hand
/// the text to a JSON parser (openapi-fetch's default). As binary, NSwag and Kiota return the body as a stream and
/// openapi-typescript types it as a string to read with <c>parseAs: "text"</c>.
/// </summary>
public static class TextResponses
{
    public static void Document(OpenApiOperation operation)
    {
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (!status.StartsWith('2') || response.Content is null) continue;
            foreach (var (mediaType, media) in response.Content)
            {
                if (IsJson(mediaType) || media.Schema is not OpenApiSchema { Type: JsonSchemaType.String } text) continue;
                text.Format = "binary";
            }
        }
    }

    static bool IsJson(string mediaType)
        => mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
}
