namespace Spector.Tests;

[TestFixture(Db.Sqlite)]
[TestFixture(Db.Postgres)]
public sealed class ValidationTests(Db db) : DatabaseTest(db)
{
    [Test]
    public async Task An_insert_missing_required_fields_is_refused_with_field_errors_and_stores_nothing()
    {
        var error = Assert.ThrowsAsync<ChangesetInvalidException>(() =>
            User.InsertAsync(new Attrs { ["name"] = "  " })
        );

        Assert.That(error!.Errors.Keys, Is.EquivalentTo(new[] { "name", "email" }));
        Assert.That(error.Errors["email"], Is.EqualTo(new[] { "can't be blank" }));
        Assert.That(error.RecordType, Is.EqualTo("User"));
        Assert.That(error.Action, Is.EqualTo("insert"));
        Assert.That(
            error.Message,
            Does.Contain("User").And.Contain(error.RecordId.ToString()).And.Contain(error.EventId.ToString())
        );
        Assert.That(await CountAsync("events"), Is.EqualTo(0));
        Assert.That(await CountAsync("users"), Is.EqualTo(0));
    }

    [Test]
    public async Task An_update_that_leaves_the_record_invalid_is_refused_and_stores_nothing()
    {
        var counter = await Counter.InsertAsync(new Attrs { ["name"] = "stock", ["by"] = 2 });

        var error = Assert.ThrowsAsync<ChangesetInvalidException>(() => counter.UpdateAsync(new Attrs { ["by"] = -3 }));

        Assert.That(error!.Errors["value"], Is.EqualTo(new[] { "must not go below zero" }));
        Assert.That(error.RecordId, Is.EqualTo(counter.Id));
        Assert.That(await CountAsync("events"), Is.EqualTo(1));
        Assert.That((await Counter.GetAsync(counter.Id))!.Value, Is.EqualTo(2));
        await using var connection = await OpenAsync();
        Assert.That(
            await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT \"value\" FROM \"counters\""),
            Is.EqualTo(2)
        );
    }

    [Test]
    public async Task A_value_of_the_wrong_type_is_a_field_error_not_a_crash()
    {
        var error = Assert.ThrowsAsync<ChangesetInvalidException>(() =>
            User.InsertAsync(
                new Attrs
                {
                    ["name"] = "Bo",
                    ["email"] = "bo@example.com",
                    ["age"] = "forty",
                    ["plan"] = "Platinum",
                }
            )
        );

        Assert.That(error!.Errors.Keys, Is.EquivalentTo(new[] { "age", "plan" }));
        Assert.That(error.Errors["plan"][0], Does.Contain("Platinum"));
        Assert.That(await CountAsync("events"), Is.EqualTo(0));
    }

    [Test]
    public async Task Reserved_keys_are_refused()
    {
        var error = Assert.ThrowsAsync<ChangesetInvalidException>(() =>
            User.InsertAsync(
                new Attrs
                {
                    ["name"] = "Bo",
                    ["email"] = "bo@example.com",
                    ["__version__"] = 99,
                }
            )
        );

        Assert.That(error!.Errors.Keys, Is.EqualTo(new[] { "__version__" }));
        Assert.That(await CountAsync("events"), Is.EqualTo(0));
    }

    [Test]
    public void Casting_a_key_with_no_property_names_the_type_and_key()
    {
        var error = Assert.ThrowsAsync<InvalidOperationException>(() => Typo.InsertAsync(new Attrs { ["nmae"] = "x" }));

        Assert.That(error!.Message, Does.Contain("Typo").And.Contain("'nmae'"));
    }
}
