// Page paths used by more than one page.

const ME = '/pages/me/me';

function placeUrl(code) {
  return '/packagePlaces/pages/place/place?code=' + encodeURIComponent(code);
}

module.exports = { ME, placeUrl };
