using System.Globalization;
using DocumentLinks;
using Spector;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var file = Path.Combine(Path.GetTempPath(), "spector-document-links.db");
foreach (var suffix in new[] { "", "-wal", "-shm" })
    File.Delete(file + suffix);
DocumentEvents.UseSqlite($"Data Source={file}");
await DocumentEvents.MigrateAsync();

var doc = await Document.InsertAsync(new Attrs { ["title"] = "Release checklist", ["body"] = "1. Tag the build" });
var first = doc.Id;
doc = await doc.CommentAsync(first, "Who tags it?");
doc = await doc.ReviseAsync("1. Tag the build (release manager)\n2. Publish the package");
doc = await doc.ReviseAsync("1. Tag the build (release manager)\n2. Publish the package\n3. Announce");
var revisions = await DocumentHistory.RevisionsAsync(doc.Id);
doc = await doc.CommentAsync(revisions[^1].Id, "Looks complete.");

Console.WriteLine($"\"{doc.Title}\" is at revision {doc.Revision} with {doc.Comments} comments.\n");
Console.WriteLine("Revisions, following the supersedes links:");
for (var i = 0; i < revisions.Count; i++)
{
    var body = revisions[i].ReadAttrs()["body"]!.GetValue<string>().Replace("\n", " / ");
    Console.WriteLine($"  r{i + 1} ({revisions[i].Action}, event {revisions[i].Seq}): {body}");
    foreach (var comment in await DocumentHistory.CommentsOnAsync(revisions[i].Id))
        Console.WriteLine($"      comment: {comment.ReadAttrs()["text"]!.GetValue<string>()}");
}

Console.WriteLine("\nStored links of each event:");
foreach (var e in await Document.AllEventsAsync(doc.Id))
foreach (var link in await DocumentEvents.Log.LinksOfAsync(e.Id))
{
    var target = (await DocumentEvents.Log.PreviousEventsAsync(link.Target)).Count;
    Console.WriteLine($"  event {e.Seq} ({e.Action}) --{(DocLink)link.Type!.Value}--> event {target}");
}
