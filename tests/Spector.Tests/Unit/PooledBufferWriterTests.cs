namespace Spector.Tests;

/// <summary>The pooled scratch buffer hashing writes into: it grows without losing what was written.</summary>
public sealed class PooledBufferWriterTests
{
    [Test]
    public void Growing_keeps_every_byte_written_in_order()
    {
        using var writer = new PooledBufferWriter(16);
        var expected = new List<byte>();
        for (var i = 0; i < 5_000; i++)
        {
            var chunk = Enumerable.Range(0, 1 + i % 37).Select(j => (byte)(i + j)).ToArray();
            chunk.CopyTo(writer.GetSpan(chunk.Length));
            writer.Advance(chunk.Length);
            expected.AddRange(chunk);
        }
        Assert.That(writer.WrittenCount, Is.EqualTo(expected.Count));
        Assert.That(writer.WrittenSpan.ToArray(), Is.EqualTo(expected.ToArray()));
        Assert.That(writer.WrittenMemory.ToArray(), Is.EqualTo(expected.ToArray()));
    }

    [Test]
    public void Advancing_past_the_space_given_is_refused()
    {
        using var writer = new PooledBufferWriter(16);
        var room = writer.GetSpan(4).Length;
        Assert.Throws<InvalidOperationException>(() => writer.Advance(room + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(-1));
        Assert.That(writer.WrittenCount, Is.Zero);
    }
}
