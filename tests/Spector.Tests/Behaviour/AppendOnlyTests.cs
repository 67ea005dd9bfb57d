using System.Data.Common;

namespace Spector.Tests;

[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class AppendOnlyTests(Db db) : DatabaseTest(db)
{
    [TestCase("UPDATE \"events\" SET \"payload\" = '{}'")]
    [TestCase("DELETE FROM \"events\"")]
    public async Task Changing_or_removing_an_event_row_is_refused_by_the_trigger(string sql)
    {
        var user = await User.InsertAsync(new Attrs { ["name"] = "Cy", ["email"] = "cy@example.com" });

        var error = Assert.CatchAsync<DbException>(() => ExecuteRawAsync(sql));

        var translated = Log.Translate(error!);
        Assert.That(translated, Is.TypeOf<EventLogImmutableException>());
        Assert.That(((EventLogImmutableException)translated).Table, Is.EqualTo("events"));
        Assert.That(translated.InnerException, Is.SameAs(error));
        Assert.That((await User.GetAsync(user.Id))!.Name, Is.EqualTo("Cy"), "the event is intact");
    }

    [Test]
    public async Task Translate_leaves_other_database_errors_alone()
    {
        var error = Assert.CatchAsync<DbException>(() => ExecuteRawAsync("SELECT * FROM \"no_such_table\""));

        Assert.That(Log.Translate(error!), Is.SameAs(error));
    }

    [Test]
    public async Task The_migration_can_opt_out_of_the_triggers()
    {
        await Log.MigrateDownAsync();
        await Log.MigrateUpAsync(appendOnly: false);
        await User.InsertAsync(new Attrs { ["name"] = "Cy", ["email"] = "cy@example.com" });

        Assert.That(await ExecuteRawAsync("UPDATE \"events\" SET \"metadata\" = NULL"), Is.EqualTo(1));
    }
}
