// Passkey pages. django-otp-webauthn's own script does the ceremony and writes a status
// message in its own words; this puts the page's words in its place: the template gives
// them, translated, as data- attributes of the status element, one per status the library
// reports in its data-status-enum ("state-error" -> data-state-error). Once a passkey is
// added, the settings page reloads so that it lists it.
const STATUS_ELEMENTS = ["passkey-register-status-message", "passkey-verification-status-message"];

function datasetKey(statusEnum) {
  return statusEnum.replace(/-([a-z])/g, (_, letter) => letter.toUpperCase());
}

function usePageWords() {
  for (const id of STATUS_ELEMENTS) {
    const status = document.getElementById(id);
    const statusEnum = status ? status.dataset.statusEnum : "";
    const words = statusEnum ? status.dataset[datasetKey(statusEnum)] : "";
    if (words) {
      status.textContent = words;
    }
  }
}

for (const name of [
  "otp_webauthn.register_failed",
  "otp_webauthn.verification_failed",
  "otp_webauthn.verification_complete",
]) {
  document.addEventListener(name, usePageWords);
}

document.addEventListener("otp_webauthn.register_complete", () => {
  usePageWords();
  window.location.reload();
});
