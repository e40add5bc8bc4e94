import{s as r}from"../chunks/RuD54vaE.js";import{y as t}from"../chunks/C649dUlg.js";export{t as load_css,r as start};
