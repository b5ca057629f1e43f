using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Rectify.Api.Infrastructure.OpenApi;

/// <summary>
/// CSV bodies and answers are text, not the JSON schema the generator gives every media type of an operation:
/// describe them as strings, with a CSV example.
/// </summary>
public static class CsvDocumentation
{
    const string MediaType = Http.CsvExport.MediaType;

    public static RouteHandlerBuilder WithCsvRequest(this RouteHandlerBuilder builder, string description, string example)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.RequestBody?.Content?.TryGetValue(MediaType, out var csv) == true) Describe(csv, description, example);
            return Task.CompletedTask;
        });

    public static RouteHandlerBuilder WithCsvResponse(this RouteHandlerBuilder builder, string description, string example)
        => builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            foreach (var response in operation.Responses?.Where(r => r.Key.StartsWith('2')).Select(r => r.Value) ?? [])
            {
                if (response.Content?.TryGetValue(MediaType, out var csv) == true) Describe(csv, description, example);
            }
            return Task.CompletedTask;
        });

    static void Describe(OpenApiMediaType media, string description, string example)
    {
        media.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = description };
        media.Example = JsonValue.Create(example);
    }
}
