using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Rectify.Api.Infrastructure.OpenApi;

/// <summary>
/// The journal's before and after are the changed resource as JSON, of whichever shape the entity has. Left to the
/// generator they become a component named <c>JsonElement</c> without properties, which collides with
/// System.Text.Json's type in a generated C# client and reads as <c>Record&lt;string, never&gt;</c> in TypeScript:
/// name them for what they are and say they are open objects.
/// </summary>
public static class JournalStateSchema
{
    public const string Name = "JournalEntityState";

    /// <summary>The component name of a type: <see cref="Name"/> for a JSON value, the generator's name otherwise.</summary>
    public static string? ReferenceId(JsonTypeInfo type)
        => (Nullable.GetUnderlyingType(type.Type) ?? type.Type) == typeof(JsonElement) ? Name : OpenApiOptions.CreateDefaultSchemaReferenceId(type);

    public static void Describe(OpenApiDocument document)
    {
        if (document.Components?.Schemas?.TryGetValue(Name, out var found) != true || found is not OpenApiSchema schema) return;
        schema.Type = JsonSchemaType.Object;
        // Said outright: an object without properties and without this reads as "no fields at all" to generators.
        schema.AdditionalProperties = new OpenApiSchema();
        schema.Description = "The entity's fields as JSON (camelCase, as its own resource shows them), as they were before or after the change.";
    }
}
