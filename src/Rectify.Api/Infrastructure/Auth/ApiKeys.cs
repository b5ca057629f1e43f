using System.Security.Cryptography;
using System.Text;

namespace Rectify.Api.Infrastructure.Auth;

/// <summary>
/// API keys: <c>rfy_{prefix}_{secret}</c> with an 8-character public prefix and 256 random bits of secret. Only
/// the SHA-256 of the whole key is stored; the prefix finds the row, the hash comparison is constant-time.
/// </summary>
public static class ApiKeys
{
    const string Scheme = "rfy_";
    const string PrefixAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";

    public static (string Key, string Prefix, byte[] Hash) Generate()
    {
        var prefix = RandomNumberGenerator.GetString(PrefixAlphabet, 8);
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var key = $"{Scheme}{prefix}_{secret}";
        return (key, prefix, Hash(key));
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The prefix of a well-formed key, or null; nothing about the secret is looked at here.</summary>
    public static string? PrefixOf(string key)
        => key.Length == Scheme.Length + 8 + 1 + 43 && key.StartsWith(Scheme, StringComparison.Ordinal) && key[Scheme.Length + 8] == '_'
            ? key.Substring(Scheme.Length, 8)
            : null;

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
