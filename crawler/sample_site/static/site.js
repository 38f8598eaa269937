/* analytics and consent stub for the sample site */
window.dataLayer = window.dataLayer || [];
