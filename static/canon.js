// Copy buttons: <button class="copy" data-copy="text">; says "Copied" for a moment.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy[data-copy]");
  if (!button) return;
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    button.textContent = "Copied";
  } catch (error) {
    button.textContent = "Select and copy";  // no clipboard access (plain HTTP, or refused)
  }
  setTimeout(() => { button.textContent = label; }, 1500);
});
