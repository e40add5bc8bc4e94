import{s as r}from"../chunks/DjyQa1dw.js";import{y as t}from"../chunks/DwWB_pUs.js";export{t as load_css,r as start};
