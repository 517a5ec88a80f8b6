// The "Two-step sign-in" page: once a passkey is added (django-otp-webauthn's own script
// does the ceremony), reload so the page lists it.
document.addEventListener("otp_webauthn.register_complete", () => {
  window.location.reload();
});
