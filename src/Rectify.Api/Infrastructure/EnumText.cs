using System.Text.Json;

namespace Rectify.Api.Infrastructure;

/// <summary>
/// States and kinds are stored and sent as snake_case text (<c>in_progress</c>); C# uses enums. One place converts,
/// with the same naming policy as the JSON converter.
/// </summary>
public static class EnumText
{
    public static string Format<T>(T value) where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static T Parse<T>(string text) where T : struct, Enum
        => Enum.TryParse<T>(text.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var value)
            ? value
            : throw new InvalidOperationException($"Unknown {typeof(T).Name} '{text}' in the database.");
}
