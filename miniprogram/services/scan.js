// The camera for a code staff scan at a counter or a window (食堂核销, 驿站交付, 快递投递's tracking number):
//
//   scan.text({ barcodes: true })  -> Promise<string | null>
//
// The scanned text, or null when the camera was closed (nothing to say then). QR codes only, from the
// camera only, unless `barcodes` (a parcel's tracking number), which also takes a photo from the album.
function text(options) {
  const barcodes = Boolean(options && options.barcodes);
  return new Promise(resolve => {
    wx.scanCode({
      onlyFromCamera: !barcodes,
      scanType: barcodes ? ['barCode', 'qrCode'] : ['qrCode'],
      success: res => resolve(String((res && res.result) || '')),
      fail: () => resolve(null),
    });
  });
}

module.exports = { text };
