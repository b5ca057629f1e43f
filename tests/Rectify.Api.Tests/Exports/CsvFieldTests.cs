using Microsoft.AspNetCore.Http;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Tests.Exports;

/// <summary>The shared CSV rules every export uses, checked on their own (the HTTP tests check them on the wire).</summary>
public sealed class CsvFieldTests
{
    [Theory]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData("殡葬改革推行不力", "殡葬改革推行不力")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("他说\"好\"", "\"他说\"\"好\"\"\"")]
    [InlineData("一\n二", "\"一\n二\"")]
    [InlineData("一\r\n二", "\"一\r\n二\"")]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("+1", "'+1")]
    [InlineData("-1", "'-1")]
    [InlineData("@A1", "'@A1")]
    [InlineData("\t=1", "'\t=1")]
    [InlineData("=A1,B1", "\"'=A1,B1\"")]
    [InlineData("1-1=0", "1-1=0")]
    public void Free_text_is_quoted_when_needed_and_never_a_formula(string? text, string expected)
        => Assert.Equal(expected, CsvExport.Field(text));

    [Fact]
    public void Values_are_written_as_the_json_answers_write_them_whatever_the_culture()
    {
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            // A culture with a decimal comma and another calendar must not leak into the file.
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal("-1.5", CsvExport.Format(-1.5m));
            Assert.Equal("40.00", CsvExport.Format(40.00m));
            Assert.Equal("1234567", CsvExport.Format(1234567L));
            Assert.Equal("true", CsvExport.Format(true));
            Assert.Equal("2025-06-15", CsvExport.Format(new DateOnly(2025, 6, 15)));
            Assert.Equal("2025-10-08T01:00:00Z", CsvExport.Format(new DateTime(2025, 10, 8, 1, 0, 0, DateTimeKind.Utc)));
            Assert.Equal("2025-10-08T01:00:00.5Z", CsvExport.Format(new DateTime(2025, 10, 8, 1, 0, 0, 500, DateTimeKind.Utc)));
            Assert.Equal("", CsvExport.Format(null));
            Assert.Throws<ArgumentException>(() => CsvExport.Format(DayOfWeek.Monday));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("*/*", false)]
    [InlineData("application/json", false)]
    [InlineData("text/csv", true)]
    [InlineData("text/csv; charset=utf-8", true)]
    [InlineData("text/csv, application/json", true)]
    [InlineData("application/json, text/csv", false)]
    [InlineData("text/csv;q=0.5, application/json", false)]
    [InlineData("application/json;q=0.1, text/csv", true)]
    [InlineData("text/csv;q=0", false)]
    [InlineData("text/html, text/csv;q=0.2", true)]
    [InlineData("garbage;;", false)]
    public void Csv_is_chosen_only_when_preferred_to_json(string? accept, bool csv)
    {
        var http = new DefaultHttpContext();
        if (accept is not null) http.Request.Headers.Accept = accept;
        Assert.Equal(csv, CsvExport.WantsCsv(http));
        Assert.Contains("Accept", http.Response.Headers.Vary.ToString(), StringComparison.Ordinal);
    }
}
