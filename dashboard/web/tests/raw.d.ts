// Vite's ?raw imports: a file's text (tests read style.css with it).
declare module '*?raw' {
  const text: string;
  export default text;
}
