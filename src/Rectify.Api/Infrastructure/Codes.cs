namespace Rectify.Api.Infrastructure;

/// <summary>Formats of the codes callers choose; the database checks the same patterns.</summary>
public static class Codes
{
    public const string RoundPattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
    public const string RoundPatternMessage = "Use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit.";
    public const string ItemPattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$";
    public const string ItemPatternMessage = "Use 1–32 letters, digits, '.', '_' or '-', starting with a letter or digit, e.g. 2.1.";
}
