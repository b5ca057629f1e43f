using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rectify.Api.Infrastructure;

/// <summary>
/// States and kinds are stored and sent as snake_case text (<c>in_progress</c>), or as the name a member gives itself
/// with <see cref="JsonStringEnumMemberNameAttribute"/> (<c>data-values</c>); C# uses enums. One place converts, for
/// the JSON converter, query filters, the database and the OpenAPI document alike.
/// </summary>
public static class EnumText
{
    public static string Format<T>(T value) where T : struct, Enum => Wire<T>.Names.TryGetValue(value, out var name) ? name : Name(value.ToString());

    public static T Parse<T>(string text) where T : struct, Enum
        => Wire<T>.Values.TryGetValue(text, out var known) ? known
            : Enum.TryParse<T>(text.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var value) ? value
            : throw new InvalidOperationException($"Unknown {typeof(T).Name} '{text}' in the database.");

    /// <summary>Every value of <paramref name="enumType"/> as it is written, in declaration order.</summary>
    public static IReadOnlyList<string> Names(Type enumType)
        => [.. enumType.GetFields(BindingFlags.Public | BindingFlags.Static).Select(Name)];

    static string Name(FieldInfo field) => field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? Name(field.Name);

    static string Name(string member) => JsonNamingPolicy.SnakeCaseLower.ConvertName(member);

    static class Wire<T> where T : struct, Enum
    {
        public static readonly Dictionary<T, string> Names = typeof(T).GetFields(BindingFlags.Public | BindingFlags.Static)
            .ToDictionary(f => (T)f.GetValue(null)!, Name);

        public static readonly Dictionary<string, T> Values = Names.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);
    }
}
