using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace Rectify.Api.Infrastructure.OpenApi;

/// <summary>
/// A list of states (an issue's or a measure's <c>allowedTransitions</c>) refers to the state's component instead of
/// repeating its values inline: an inline enum becomes a new type per property in a generated client (NSwag's
/// <c>AllowedTransitions</c>, <c>AllowedTransitions2</c>) that does not compare with the resource's own state.
/// </summary>
public static class NamedEnums
{
    public static void ReferToComponents(OpenApiDocument document)
    {
        var schemas = document.Components?.Schemas;
        if (schemas is null) return;
        var named = schemas.Where(s => s.Value is OpenApiSchema { Enum.Count: > 0 })
            .Select(s => (Name: s.Key, Values: Values((OpenApiSchema)s.Value)))
            .ToList();
        foreach (var schema in schemas.Values.OfType<OpenApiSchema>())
        {
            foreach (var property in schema.Properties?.Values.OfType<OpenApiSchema>() ?? [])
            {
                if (property.Items is not OpenApiSchema { Enum.Count: > 0 } items) continue;
                var values = Values(items);
                var match = named.Where(n => n.Values.SequenceEqual(values)).Select(n => n.Name).FirstOrDefault();
                if (match is not null) property.Items = new OpenApiSchemaReference(match, document);
            }
        }
    }

    static List<string?> Values(OpenApiSchema schema) => [.. schema.Enum!.Select(value => value?.GetValue<string>())];
}
