namespace Spector.Tests;

/// <summary>The upcasting helpers handlers use on old payloads.</summary>
public sealed class AttrsTests
{
    [Test]
    public void Rename_moves_a_value_to_a_new_key_and_ignores_absent_keys()
    {
        var attrs = Attrs.Parse("""{"title":"Draft","n":1}""");

        attrs.Rename("title", "name").Rename("missing", "other");

        Assert.That(attrs.ToString(), Is.EqualTo("""{"n":1,"name":"Draft"}"""));
    }

    [Test]
    public void Move_nests_and_flattens_by_dotted_path()
    {
        var attrs = Attrs.Parse("""{"city":"Oslo","zip":"0150"}""");

        attrs.Move("city", "address.city").Move("zip", "address.zip");
        Assert.That(attrs.ToString(), Is.EqualTo("""{"address":{"city":"Oslo","zip":"0150"}}"""));

        attrs.Move("address.city", "city").Move("address.nothing", "x");
        Assert.That(attrs.ToString(), Is.EqualTo("""{"address":{"zip":"0150"},"city":"Oslo"}"""));
    }

    [Test]
    public void Default_fills_only_absent_keys()
    {
        var attrs = Attrs.Parse("""{"a":null}""");

        attrs.Default("a", 1).Default("b", 2);

        Assert.That(attrs.ToString(), Is.EqualTo("""{"a":null,"b":2}"""));
    }

    [Test]
    public void A_payload_must_be_a_json_object()
    {
        Assert.Throws<System.Text.Json.JsonException>(() => Attrs.Parse("[1]"));
    }
}
