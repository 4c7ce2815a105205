// "Copy the link" buttons: <button data-copy="ID" data-done="Copied."> copies
// the text of the element ID. Without JavaScript the button stays hidden and
// the link can still be selected by hand.
for (const button of document.querySelectorAll("button[data-copy]")) {
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) continue;
  button.hidden = false;
  const status = document.createElement("span");
  status.setAttribute("role", "status");
  status.className = "copy-status";
  button.after(status);
  button.addEventListener("click", async () => {
    await navigator.clipboard.writeText(source.textContent.trim());
    status.textContent = " " + (button.dataset.done || "");
  });
}
