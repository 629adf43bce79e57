/** OpenCC's character dictionaries as opencc-js ships them: "source target…|source target…". */
declare module 'opencc-js/dict/*' {
  const dictionary: string;
  export default dictionary;
}
