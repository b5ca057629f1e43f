using System.Globalization;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Warnings;

/// <summary>The clock at Shanghai midnights, and items due a given number of days from a day.</summary>
sealed class WarningKit(RectifyApp app)
{
    public static readonly TimeSpan Shanghai = TimeSpan.FromHours(8);
    public readonly Seed Seed = new(app);
    public readonly HttpClient Client = app.Client();

    /// <summary>The next Shanghai midnight after the app's clock (the fake clock only goes forward), as a day.</summary>
    public DateOnly NextMidnight()
    {
        var local = app.Clock.GetUtcNow().ToOffset(Shanghai);
        return DateOnly.FromDateTime(local.Date).AddDays(1);
    }

    /// <summary>Moves the clock to <paramref name="offset"/> after Shanghai midnight starting <paramref name="day"/>.</summary>
    public void At(DateOnly day, TimeSpan offset)
        => app.Clock.SetUtcNow(new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), Shanghai) + offset);

    public static string Date(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public async Task<JsonNode> MeasureDueAsync(long issueId, DateOnly due, string owner = "HNMZT.SHJZ")
        => await Seed.MeasureAsync(issueId, Date(due), owner: owner);

    public static string? Text(JsonNode? node) => node?.GetValue<string>();
}
